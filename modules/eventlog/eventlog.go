package eventlog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pagespace/pagespace/modules"
	"gorm.io/gorm"
)

// advisoryKey is the PostgreSQL advisory lock that orders event ids by commit.
const advisoryKey = 7249002

// NotifyChannel is the PostgreSQL channel on which every commit that wrote events announces its
// last event id, so that other processes on the same database deliver them too. Notifications
// are sent at commit, in commit order. The payload is the id in decimal, followed by a space and
// the writing process's origin (Log.SetOrigin) when it has one: "1234 3f9c…". A process gets
// its own events through its publisher, ahead of or after their notification; the origin lets
// it tell its own notifications from the others' (see ParseNotification).
const NotifyChannel = "pagespace_events"

// ParseNotification reads a payload of NotifyChannel: the last event id of a commit and the
// origin of the process that wrote it ("" when none was given). ok is false for anything else.
func ParseNotification(payload string) (upTo int64, origin string, ok bool) {
	idText, origin, _ := strings.Cut(payload, " ")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return 0, "", false
	}
	return id, origin, true
}

// Event is one row of the event log.
type Event struct {
	ID      int64 `gorm:"primaryKey;autoIncrement"`
	Type    string
	DriveID *string
	PageID  *string
	ActorID *string
	// Rooms are the rooms the event is addressed to, stored as a JSON array of their names.
	Rooms []modules.Room `gorm:"serializer:json"`
	// Payload is the JSON object clients receive, everything but eventId.
	Payload string
	// Access is what the event changes about who may see what; nil for most events.
	Access    *Access `gorm:"serializer:json"`
	CreatedAt time.Time
}

// TableName is the events table.
func (Event) TableName() string { return "events" }

// EventID is the event's id as it travels: a decimal string.
func (e Event) EventID() string { return strconv.FormatInt(e.ID, 10) }

// LiveOnly reports whether the event is addressed to page rooms only (the ops of live editing,
// doc_op): it is for the sockets in those rooms, which catch up from their own store, and not
// for the event feed, which would otherwise carry every keystroke.
func (e Event) LiveOnly() bool {
	for _, r := range e.Rooms {
		if r.Kind != modules.RoomPage {
			return false
		}
	}
	return len(e.Rooms) > 0
}

// JSON is the payload exactly as clients receive it, with eventId first.
func (e Event) JSON() json.RawMessage {
	id := `{"eventId":"` + e.EventID() + `"`
	if len(e.Payload) <= 2 {
		return json.RawMessage(id + "}")
	}
	return json.RawMessage(id + "," + e.Payload[1:])
}

// Draft is an event a writer records inside its transaction.
type Draft struct {
	Type    string
	DriveID string
	PageID  string
	ActorID string
	Rooms   []modules.Room
	// Payload is the event's own part of what clients receive: a value that encodes to a JSON
	// object (a struct of the module's, one per event type), or nil. The log writes it once,
	// after the fields it adds itself (type, at, actorId, driveId, pageId), which it must not
	// repeat.
	Payload any
	// Access is set by events that change who may see what (see Access).
	Access *Access
}

// PageDraft is the event of a write on a page or its content, addressed to the rooms of the page
// and of its drive, so that both the page's viewers and the drive's tree see it.
func PageDraft(typ, actorID, driveID, pageID string, payload any) Draft {
	return Draft{
		Type: typ, DriveID: driveID, PageID: pageID, ActorID: actorID,
		Rooms:   []modules.Room{modules.PageRoom(pageID), modules.DriveRoom(driveID)},
		Payload: payload,
	}
}

// envelope is the part of every payload that the log writes itself.
type envelope struct {
	Type    string       `json:"type"`
	At      modules.Time `json:"at"`
	ActorID *string      `json:"actorId"`
	DriveID string       `json:"driveId,omitempty"`
	PageID  string       `json:"pageId,omitempty"`
}

// encode is the stored payload of d, recorded at: one JSON object with the envelope's fields,
// then those of d.Payload.
func encode(d Draft, at time.Time) (string, error) {
	head, err := json.Marshal(envelope{Type: d.Type, At: modules.Time(at), ActorID: nullable(d.ActorID), DriveID: d.DriveID, PageID: d.PageID})
	if err != nil || d.Payload == nil {
		return string(head), err
	}
	body, err := json.Marshal(d.Payload)
	if err != nil {
		return "", err
	}
	if len(body) < 2 || body[0] != '{' {
		return "", fmt.Errorf("the payload is %s, not a JSON object", body)
	}
	if len(body) == 2 {
		return string(head), nil
	}
	return string(head[:len(head)-1]) + "," + string(body[1:]), nil
}

// Publisher receives events after they commit. Publish is called in log order, one call at a
// time per Log, and must not block: it hands the events on and returns.
type Publisher interface {
	Publish(events []Event)
}

// Settler is implemented by publishers that can report how far they have handed events on. Tx
// calls Settle after publishing (outside its lock) with the last of its events and whether any
// of them changes who may see what (Event.Access): such a write returns once its events are
// dispatched, its revocations applied; any other write returns once its events are queued, in
// order, unless the publisher is far behind (Settle bounds its backlog).
type Settler interface {
	Settle(ctx context.Context, upTo int64, access bool)
}

// Recorder collects the drafts of one transaction.
type Recorder struct {
	drafts []Draft
}

// Record adds an event to the transaction.
func (r *Recorder) Record(d Draft) { r.drafts = append(r.drafts, d) }

// Log writes transactions with their events.
type Log struct {
	db     *gorm.DB
	pub    Publisher
	origin string // sent with every NOTIFY (see NotifyChannel)
	// turns has the transactions that wrote events publish in commit order. A transaction takes
	// its turn while it holds the log's order (PostgreSQL's advisory lock, or SQLite's gate),
	// just before COMMIT, so that nothing of this process waits for the lock in Go: writers
	// queue on the advisory lock inside PostgreSQL, which hands it on at COMMIT with no round
	// trip back to this process in between.
	turns turns
	// gate admits one transaction at a time on SQLite, in arrival order. SQLite has one writer
	// anyway, and a writer waiting for its lock polls (busy_timeout), so a steady stream of
	// writers can starve one for seconds, up to the timeout and a failure.
	gate chan struct{}
}

// New returns a Log on db that hands committed events to pub (nil: nobody).
func New(db *gorm.DB, pub Publisher) *Log {
	l := &Log{db: db, pub: pub}
	l.turns.moved.L = &l.turns.mu
	if db.Dialector.Name() == "sqlite" {
		l.gate = make(chan struct{}, 1)
	}
	return l
}

// SetPublisher replaces the publisher; call it before serving.
func (l *Log) SetPublisher(pub Publisher) { l.pub = pub }

// SetOrigin names this process in the notifications of its commits (NotifyChannel), so that
// its own listener can tell them apart; call it before serving. It holds no spaces.
func (l *Log) SetOrigin(origin string) { l.origin = origin }

// Origin is what SetOrigin set.
func (l *Log) Origin() string { return l.origin }

// Tx runs fn in a transaction. The events fn records are appended in the same transaction, and
// published after it commits. If fn or the commit fails, nothing is written and nothing published.
func (l *Log) Tx(ctx context.Context, fn func(tx *gorm.DB, rec *Recorder) error) (events []Event, err error) {
	gated := false
	if l.gate != nil {
		select {
		case l.gate <- struct{}{}:
			gated = true
		case <-ctx.Done():
			return nil, fmt.Errorf("eventlog: wait to write: %w", ctx.Err())
		}
	}
	release := func() {
		if gated {
			gated = false
			<-l.gate
		}
	}
	tx := l.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		release()
		return nil, fmt.Errorf("eventlog: begin: %w", tx.Error)
	}
	committed := false
	turn, queued := uint64(0), false // this transaction's turn to publish, once it has one
	defer func() {
		if !committed {
			tx.Rollback()
		}
		release()
		if queued {
			l.turns.wait(turn)
			l.turns.done()
		}
		if p := recover(); p != nil {
			panic(p)
		}
	}()
	var rec Recorder
	if err := fn(tx, &rec); err != nil {
		return nil, err
	}
	if len(rec.drafts) > 0 {
		events, err = insert(tx, rec.drafts, l.origin)
		if err != nil {
			return nil, err
		}
		// The first insert took the log's order; it is held until COMMIT.
		turn, queued = l.turns.take(), true
	}
	if err := tx.Commit().Error; err != nil {
		return nil, fmt.Errorf("eventlog: commit: %w", err)
	}
	committed = true
	release()
	if !queued {
		return events, nil
	}
	l.turns.wait(turn)
	if l.pub != nil {
		l.pub.Publish(events)
	}
	l.turns.done()
	queued = false
	if f, ok := l.pub.(Settler); ok {
		access := slices.ContainsFunc(events, func(e Event) bool { return e.Access != nil })
		f.Settle(ctx, events[len(events)-1].ID, access)
	}
	return events, nil
}

// turns are numbered tickets: take hands out the next number, and the holder of each, in number
// order, waits for its turn and then calls done.
type turns struct {
	mu        sync.Mutex
	moved     sync.Cond // L is mu; broadcast when now moves on
	next, now uint64
}

func (t *turns) take() uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.next
	t.next++
	return n
}

// wait returns once it is turn n's turn. The turns before it are held by transactions between
// their last insert and publishing, so it waits for one COMMIT at most, plus scheduling.
func (t *turns) wait(n uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.now != n {
		t.moved.Wait()
	}
}

// done ends the current turn.
func (t *turns) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.now++
	t.moved.Broadcast()
}

func insert(tx *gorm.DB, drafts []Draft, origin string) ([]Event, error) {
	now := modules.Now()
	events := make([]Event, 0, len(drafts))
	for _, d := range drafts {
		payload, err := encode(d, now)
		if err != nil {
			return nil, fmt.Errorf("eventlog: encode %s: %w", d.Type, err)
		}
		rooms := d.Rooms
		if rooms == nil {
			rooms = []modules.Room{} // the column holds an array, never null
		}
		events = append(events, Event{
			Type: d.Type, DriveID: nullable(d.DriveID), PageID: nullable(d.PageID), ActorID: nullable(d.ActorID),
			Rooms: rooms, Payload: payload, Access: d.Access, CreatedAt: now,
		})
	}
	// One insert per event keeps ids in draft order on both databases.
	pg := tx.Dialector.Name() == "postgres"
	var index []eventRoom
	for i := range events {
		var err error
		if pg {
			notify := i == len(events)-1
			events[i].ID, err = insertPG(tx, events[i], i == 0, notify, origin)
		} else {
			err = tx.Create(&events[i]).Error
		}
		if err != nil {
			return nil, fmt.Errorf("eventlog: insert: %w", err)
		}
		index = appendIndexRooms(index, events[i].ID, drafts[i])
	}
	if len(index) > 0 {
		if err := tx.Create(&index).Error; err != nil {
			return nil, fmt.Errorf("eventlog: insert rooms: %w", err)
		}
	}
	return events, nil
}

// insertPG writes e on PostgreSQL and returns its id, in one statement that also does the
// transaction's other work on the log, so that an event costs one round trip: the first event
// (lock) takes the log's advisory lock, and the last (notify) sends the NOTIFY that announces
// the transaction's last id (and origin), delivered at commit.
//
// The lock must be held before the id is drawn from the sequence, or ids would not follow
// commit order. Within one expression PostgreSQL fixes no order of evaluation, except in CASE,
// which evaluates a WHEN condition before its result and a result only if its condition holds
// (PostgreSQL documentation, 4.2.14 "Expression Evaluation Rules" and 9.18.1 "CASE"; both
// functions are volatile, so neither is evaluated at planning time). So the id is nextval in the
// THEN of a WHEN that takes the lock. pg_advisory_xact_lock returns void, which is not null;
// were it null, the id would be null and the insert would fail, never draw an id unlocked.
func insertPG(tx *gorm.DB, e Event, lock, notify bool, origin string) (int64, error) {
	rooms, err := json.Marshal(e.Rooms)
	if err != nil {
		return 0, err
	}
	var access *string
	if e.Access != nil {
		b, err := json.Marshal(e.Access)
		if err != nil {
			return 0, err
		}
		a := string(b)
		access = &a
	}
	var args []any
	id := "nextval('events_id_seq')" // the sequence of the BIGSERIAL column
	if lock {
		id = "CASE WHEN pg_advisory_xact_lock(?) IS NOT NULL THEN " + id + " END"
		args = append(args, advisoryKey)
	}
	args = append(args, e.Type, e.DriveID, e.PageID, e.ActorID, string(rooms), e.Payload, access, e.CreatedAt)
	from := "ins"
	if notify { // a function in FROM may read the items before it (7.2.1.4, LATERAL)
		if origin == "" {
			from += ", pg_notify(?, ins.id::text)"
			args = append(args, NotifyChannel)
		} else {
			from += ", pg_notify(?, ins.id::text || ?)"
			args = append(args, NotifyChannel, " "+origin)
		}
	}
	var out struct{ ID int64 }
	err = tx.Raw(`WITH ins AS (
			INSERT INTO events (id, type, drive_id, page_id, actor_id, rooms, payload, access, created_at)
			VALUES (`+id+`, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
		) SELECT ins.id FROM `+from, args...).Scan(&out).Error
	if err == nil && out.ID == 0 {
		err = errors.New("no id returned")
	}
	return out.ID, err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// After returns up to limit events with id > after, ascending.
func (l *Log) After(ctx context.Context, after int64, limit int) ([]Event, error) {
	var out []Event
	err := l.db.WithContext(ctx).Where("id > ?", after).Order("id").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("eventlog: after: %w", err)
	}
	return out, nil
}

// Oldest returns the smallest id still in the log, or 0 when it is empty.
func (l *Log) Oldest(ctx context.Context) (int64, error) {
	var id *int64
	err := l.db.WithContext(ctx).Model(&Event{}).Select("MIN(id)").Scan(&id).Error
	if err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

// Latest returns the largest id in the log, or 0 when it is empty.
func (l *Log) Latest(ctx context.Context) (int64, error) {
	var id *int64
	err := l.db.WithContext(ctx).Model(&Event{}).Select("MAX(id)").Scan(&id).Error
	if err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

// Prune deletes events older than before, with their event_rooms rows, and returns how many
// events it deleted. Ids are never reused (AUTOINCREMENT on SQLite, a sequence on PostgreSQL), so
// pruning never breaks ordering.
func (l *Log) Prune(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := l.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		old := tx.Model(&Event{}).Select("id").Where("created_at < ?", before)
		if err := tx.Where("event_id IN (?)", old).Delete(&eventRoom{}).Error; err != nil {
			return err
		}
		res := tx.Where("created_at < ?", before).Delete(&Event{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("eventlog: prune: %w", err)
	}
	return n, nil
}

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
	"github.com/pagespace/pagespace/modules/pgdriver"
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
	// order has the transactions that wrote events publish in commit order (see order).
	order order
	// gate admits one transaction at a time on SQLite, in arrival order. SQLite has one writer
	// anyway, and a writer waiting for its lock polls (busy_timeout), so a steady stream of
	// writers can starve one for seconds, up to the timeout and a failure.
	gate chan struct{}
}

// New returns a Log on db that hands committed events to pub (nil: nobody).
func New(db *gorm.DB, pub Publisher) *Log {
	l := &Log{db: db, pub: pub}
	l.order.moved.L = &l.order.mu
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
	var fl *flight // this transaction's place in the commit order, once it writes events
	closed := false
	defer func() {
		if !closed {
			tx.Rollback()
		}
		release()
		if fl != nil { // failed: nothing to publish
			l.order.finish(fl)
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
		fl = l.order.begin()
		if events, err = insert(tx, rec.drafts, l.origin); err != nil {
			return nil, err
		}
	}
	closed = true
	// When the transaction committed in its last statement (queryAndCommit), this commit sends
	// nothing: it gives the connection back (pgdriver).
	if err := tx.Commit().Error; err != nil {
		return nil, fmt.Errorf("eventlog: commit: %w", err)
	}
	release()
	if fl == nil {
		return events, nil
	}
	l.order.end(fl, events[len(events)-1].ID)
	l.order.wait(fl)
	if l.pub != nil {
		l.pub.Publish(events)
	}
	l.order.finish(fl)
	fl = nil
	if f, ok := l.pub.(Settler); ok {
		access := slices.ContainsFunc(events, func(e Event) bool { return e.Access != nil })
		f.Settle(ctx, events[len(events)-1].ID, access)
	}
	return events, nil
}

// order has the transactions of one Log publish their events in commit order, which is id order.
//
// On PostgreSQL a transaction's first event insert takes the log's advisory lock, which it holds
// until COMMIT; its last insert is sent together with COMMIT (insertPG), so that nothing of this
// process sits between the lock and its release, and the next writer, already waiting for the
// lock inside PostgreSQL, goes on at once. The order of commits is then known only from the ids,
// as each transaction hears back. A transaction that sent its first insert after another's
// commit was heard cannot commit before it: so a transaction may publish once every transaction
// that began (flight.started) before its own commit was heard (flight.ended) has been heard too,
// and none heard with a smaller id is still to publish. On SQLite the gate admits one transaction
// at a time, and the same rule holds trivially.
type order struct {
	mu      sync.Mutex
	moved   sync.Cond // L is mu; broadcast when a flight ends or finishes
	clock   uint64
	flights []*flight
}

// flight is a transaction that writes events, from its first insert until it has published.
type flight struct {
	started uint64
	ended   uint64 // 0 until its commit is heard
	last    int64  // its last event id, once ended
}

func (o *order) begin() *flight {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clock++
	f := &flight{started: o.clock}
	o.flights = append(o.flights, f)
	return f
}

// end records that f committed with last as its last event id.
func (o *order) end(f *flight, last int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.clock++
	f.ended, f.last = o.clock, last
	o.moved.Broadcast()
}

// wait returns once f, which has ended, may publish.
func (o *order) wait(f *flight) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for !o.mayPublish(f) {
		o.moved.Wait()
	}
}

func (o *order) mayPublish(f *flight) bool {
	for _, g := range o.flights {
		switch {
		case g == f:
		case g.ended == 0:
			if g.started < f.ended {
				return false // it may have committed first
			}
		case g.last < f.last:
			return false // it committed first
		}
	}
	return true
}

// finish removes f once it has published, or once it failed (ended or not).
func (o *order) finish(f *flight) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flights = slices.DeleteFunc(o.flights, func(g *flight) bool { return g == f })
	o.moved.Broadcast()
}

// insert writes the events of drafts. On PostgreSQL its last statement also commits the
// transaction (see insertPG).
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
		last := i == len(events)-1
		switch {
		case pg && last:
			events[i].ID, err = insertPG(tx, events[i], i == 0, &commitPart{origin: origin, index: index, rooms: indexRooms(drafts[i])})
		case pg:
			events[i].ID, err = insertPG(tx, events[i], i == 0, nil)
		default:
			err = tx.Create(&events[i]).Error
		}
		if err != nil {
			return nil, fmt.Errorf("eventlog: insert: %w", err)
		}
		index = appendIndexRooms(index, events[i].ID, drafts[i])
	}
	if !pg && len(index) > 0 {
		if err := tx.Create(&index).Error; err != nil {
			return nil, fmt.Errorf("eventlog: insert rooms: %w", err)
		}
	}
	return events, nil
}

// commitPart is what the last event's statement does besides inserting it (insertPG).
type commitPart struct {
	origin string      // for the NOTIFY
	index  []eventRoom // the event_rooms rows of the transaction's other events
	rooms  []string    // and those of this event (its id is not known yet)
}

// insertPG writes e on PostgreSQL and returns its id, in one statement that also does the
// transaction's other work on the log, so that an event costs one round trip. The first event
// (lock) takes the log's advisory lock. The last (commit not nil) also writes the transaction's
// event_rooms rows, sends the NOTIFY that announces its last id (and origin), delivered at
// commit, and is sent in one message with COMMIT: between taking the lock and releasing it at
// COMMIT, PostgreSQL then waits for nothing from this process.
//
// The lock must be held before the id is drawn from the sequence, or ids would not follow
// commit order. Within one expression PostgreSQL fixes no order of evaluation, except in CASE,
// which evaluates a WHEN condition before its result and a result only if its condition holds
// (PostgreSQL documentation, 4.2.14 "Expression Evaluation Rules" and 9.18.1 "CASE"; both
// functions are volatile, so neither is evaluated at planning time). So the id is nextval in the
// THEN of a WHEN that takes the lock. pg_advisory_xact_lock returns void, which is not null;
// were it null, the id would be null and the insert would fail, never draw an id unlocked.
//
// The statement and COMMIT go in one message through pgdriver.CommitWith, which needs the
// connections of pgdriver.Open: the transaction's own commit then costs no round trip.
func insertPG(tx *gorm.DB, e Event, lock bool, commit *commitPart) (int64, error) {
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
	sql := `WITH ins AS (
			INSERT INTO events (id, type, drive_id, page_id, actor_id, rooms, payload, access, created_at)
			VALUES (` + id + `, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
		)`
	from := "ins"
	if commit != nil {
		if len(commit.rooms) > 0 || len(commit.index) > 0 {
			// [room, event id] pairs; a null id is this event's.
			pairs := make([][2]any, 0, len(commit.index)+len(commit.rooms))
			for _, r := range commit.index {
				pairs = append(pairs, [2]any{r.Room, r.EventID})
			}
			for _, r := range commit.rooms {
				pairs = append(pairs, [2]any{r, nil})
			}
			b, err := json.Marshal(pairs)
			if err != nil {
				return 0, err
			}
			sql += `, rooms AS (
				INSERT INTO event_rooms (room, event_id)
				SELECT p->>0, COALESCE((p->>1)::bigint, ins.id) FROM ins, json_array_elements(?::json) p
			)`
			args = append(args, string(b))
		}
		// A function in FROM may read the items before it (7.2.1.4, LATERAL).
		if commit.origin == "" {
			from += ", pg_notify(?, ins.id::text)"
			args = append(args, NotifyChannel)
		} else {
			from += ", pg_notify(?, ins.id::text || ?)"
			args = append(args, NotifyChannel, " "+commit.origin)
		}
	}
	sql += " SELECT ins.id FROM " + from
	var out int64
	if commit == nil {
		var row struct{ ID int64 }
		err = tx.Raw(sql, args...).Scan(&row).Error
		out = row.ID
	} else {
		out, err = queryAndCommit(tx, sql, args)
	}
	if err == nil && out == 0 {
		err = errors.New("no id returned")
	}
	return out, err
}

// queryAndCommit runs sql, a statement that returns one id, and then COMMIT in one message on
// tx's connection (pgdriver.CommitWith), and returns the id. sql's arguments are written ?;
// they become $1, $2… here. tx's own commit then sends nothing.
func queryAndCommit(tx *gorm.DB, sql string, args []any) (int64, error) {
	sql = modules.DollarPlaceholders(sql)
	rows, err := tx.Statement.ConnPool.QueryContext(tx.Statement.Context, sql, append([]any{pgdriver.CommitWith{}}, args...)...)
	if err != nil {
		return 0, err
	}
	var id int64
	for rows.Next() {
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, err
		}
	}
	if err := rows.Close(); err != nil {
		return 0, err
	}
	return id, rows.Err()
}

// indexRooms are the event_rooms rows of d, as appendIndexRooms writes them, without an id.
func indexRooms(d Draft) []string {
	rows := appendIndexRooms(nil, 0, d)
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Room
	}
	return out
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

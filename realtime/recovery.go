package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"github.com/pagespace/pagespace/realtime/socketio"
	"gorm.io/gorm"
)

// session is a recoverable connection: its pid, user and rooms.
type session struct {
	PID        string `gorm:"primaryKey;column:pid"`
	UserID     string
	Rooms      string // JSON object room → drive id
	SinceEvent int64  // the log position when the session began
	UpdatedAt  time.Time
}

func (session) TableName() string { return "realtime_sessions" }

// saveSession records c's rooms under its pid, and returns once they are written (sessionWriter).
func (b *Broker) saveSession(c *client) {
	b.saveSessions(c)
}

// saveSessions records the rooms of clients, in one statement where it can.
func (b *Broker) saveSessions(clients ...*client) {
	if len(clients) == 0 || b.closing.Load() {
		return
	}
	b.sessions.save(clients...)
}

func (b *Broker) deleteSession(pid string) {
	if pid == "" {
		return
	}
	b.sessions.forget(pid)
	ctx, cancel := b.within(queryTimeout)
	defer cancel()
	if err := b.db.WithContext(ctx).Delete(&session{PID: pid}).Error; err != nil {
		b.log.Warn("realtime: delete session", "err", err.Error())
	}
}

// PruneSessions deletes recovery sessions idle for longer than the retention.
func (b *Broker) PruneSessions(ctx context.Context) (int64, error) {
	res := b.db.WithContext(ctx).Where("updated_at < ?", time.Now().Add(-b.cfg.Retention)).Delete(&session{})
	return res.RowsAffected, res.Error
}

// recover restores a reconnecting client's session: rooms re-checked, then the events it missed
// replayed in order, so that live delivery resumes exactly after (replay).
func (b *Broker) recover(s *socketio.Socket, pid, offset string) bool {
	c := clientOf(s)
	if c == nil {
		return false
	}
	if !modules.ValidID(pid) {
		return false // the client's own string: no pid has NUL, which PostgreSQL refuses in text
	}
	ctx, cancel := b.within(stepTimeout)
	defer cancel()
	// A session that ended since the connect check does not get its rooms and events back.
	if err := b.verify.SessionActive(ctx, c.identity()); err != nil {
		return false
	}
	var row session
	if err := b.db.WithContext(ctx).Where("pid = ?", pid).Take(&row).Error; err != nil {
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			b.log.Warn("realtime: load session", "err", err.Error())
		}
		return false
	}
	if row.UserID != c.userID {
		return false // someone else's pid
	}
	from := row.SinceEvent
	if offset != "" {
		n, err := strconv.ParseInt(offset, 10, 64)
		if err != nil || n < 0 {
			return false
		}
		// An offset from before the session began is a client's leftover from an earlier
		// session it did not recover: this session missed nothing before it began.
		from = max(n, row.SinceEvent)
	}
	oldest, err := b.events.Oldest(ctx)
	if err != nil {
		return false
	}
	var rooms map[string]string
	_ = json.Unmarshal([]byte(row.Rooms), &rooms)

	if !b.replay(ctx, c, from, oldest, rooms) {
		return false
	}
	b.metrics.recovered.Add(1)
	for name, driveID := range rooms {
		if room, _ := modules.ParseRoom(name); room.Kind == modules.RoomPage && inPage(c, room.ID) {
			b.presence.join(c, room.ID, driveID)
			b.statuses.resend(c.s, room.ID) // ephemeral: what changed while away is not replayed
		}
	}
	b.saveSession(c)
	return true
}

// replay rejoins the allowed rooms and emits the missed events. It reads the log and resolves
// access outside b.mu (planReplay), then, under b.mu, checks that no event was dispatched and no
// access change applied meanwhile, and joins and emits in order; otherwise it reads the events
// dispatched meanwhile too, or plans again after an access change.
func (b *Broker) replay(ctx context.Context, c *client, from, oldest int64, rooms map[string]string) bool {
	p := newReplayPlan(b, c, from, rooms)
	for {
		b.mu.Lock()
		last := b.last
		b.mu.Unlock()
		if from > last || (oldest > 0 && from+1 < oldest) {
			return false // from the future, or past retention: a fresh session, refetch over REST
		}
		if oldest == 0 && from < last {
			return false // the log was emptied
		}
		if !p.read(ctx, last) {
			return false
		}
		b.mu.Lock()
		fresh := b.freshLocked(p.views)
		if fresh && b.last == p.upTo {
			b.keepLocked(p.views)
			p.applyLocked()
			b.mu.Unlock()
			return true
		}
		b.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return false
		}
		if !fresh {
			p = newReplayPlan(b, c, from, rooms)
		}
	}
}

// replayPlan is what a recovery does under b.mu, worked out before with the views in views: the
// rooms to rejoin, those lost while away, and the missed events up to upTo with what the user
// may see of each.
type replayPlan struct {
	b       *Broker
	c       *client
	views   viewSet
	checked bool     // the rooms are sorted into join and lost
	join    []string // room names, sorted
	drives  map[string]string
	lost    []string
	inRoom  map[string]bool
	upTo    int64
	events  []replayed
	sent    int
}

// replayed is one missed event as the client gets it.
type replayed struct {
	typ, offset string
	payload     json.RawMessage
}

// newReplayPlan is an empty plan to recover c's rooms and the events after from.
func newReplayPlan(b *Broker, c *client, from int64, rooms map[string]string) *replayPlan {
	return &replayPlan{b: b, c: c, views: viewSet{}, drives: rooms, upTo: from,
		inRoom: map[string]bool{modules.UserRoom(c.userID).String(): true}}
}

// view is the user's view of driveID, resolved outside b.mu once per plan.
func (p *replayPlan) view(ctx context.Context, driveID string) (permissions.DriveView, error) {
	k := viewKey{p.c.userID, driveID}
	p.b.fetchAll(ctx, p.views, []viewKey{k})
	return p.views[k].view, p.views[k].err
}

// checkRooms sorts the session's rooms into those to rejoin and those lost while away.
func (p *replayPlan) checkRooms(ctx context.Context) {
	names := make([]string, 0, len(p.drives))
	for room := range p.drives {
		names = append(names, room)
	}
	sort.Strings(names)
	for _, room := range names {
		v, err := p.view(ctx, p.drives[room])
		switch {
		case err == nil && mayBeIn(v, room):
			if len(p.join) < p.b.cfg.MaxRoomsPerConn {
				p.join = append(p.join, room)
				p.inRoom[room] = true
			}
		case err == nil || isNotFound(err):
			// Lost while away: say so, as a connected socket would have been told, so that the
			// client does not wait for a room that stays silent.
			p.lost = append(p.lost, room)
		}
	}
}

// read extends the plan with the events after upTo up to last, as the user may see them. It
// returns false when there are too many to replay, or the log cannot be read.
func (p *replayPlan) read(ctx context.Context, last int64) bool {
	if !p.checked {
		p.checkRooms(ctx)
		p.checked = true
	}
	for p.upTo < last {
		batch, err := p.b.events.After(ctx, p.upTo, 500)
		if err != nil || len(batch) == 0 {
			p.upTo = last
			return err == nil
		}
		for _, e := range batch {
			if e.ID > last {
				p.upTo = last
				return true
			}
			p.upTo = e.ID
			if !p.addressed(e) {
				continue
			}
			sight, ok := p.b.sight(ctx, permissions.AudienceOf(e), p.c.userID, p.view)
			if !ok {
				continue
			}
			if p.sent++; p.sent > p.b.cfg.MaxReplay {
				return false // too much to replay: refetch over REST instead
			}
			p.events = append(p.events, replayed{typ: e.Type, offset: e.EventID(), payload: sight.Payload})
		}
	}
	return true
}

// addressed reports whether e is for a room the client rejoins or its user's.
func (p *replayPlan) addressed(e eventlog.Event) bool {
	for _, r := range e.Rooms {
		if p.inRoom[r.String()] {
			return true
		}
	}
	return false
}

// applyLocked rejoins the rooms, tells the client about those it lost and emits the missed
// events, in order. Caller holds b.mu.
func (p *replayPlan) applyLocked() {
	for _, room := range p.join {
		if p.b.track(p.c, room, p.drives[room]) != nil {
			break
		}
	}
	for _, room := range p.lost {
		_ = p.c.s.Emit("access_revoked", map[string]any{"room": room, "reason": "permission_changed"})
		p.b.metrics.kicks.Add(1)
	}
	for _, e := range p.events {
		_ = p.c.s.EmitWithOffset(e.typ, e.offset, e.payload)
	}
}

package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/permissions"
	"github.com/pagespace/pagespace/realtime/socketio"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
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

// saveSession records c's rooms under its pid.
func (b *Broker) saveSession(c *client) {
	pid := c.s.PID()
	if pid == "" || b.closing.Load() {
		return
	}
	rooms, _ := json.Marshal(c.roomsCopy())
	b.mu.Lock()
	since := b.last
	b.mu.Unlock()
	row := session{PID: pid, UserID: c.userID, Rooms: string(rooms), SinceEvent: since, UpdatedAt: modules.Now()}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := b.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "pid"}},
		DoUpdates: clause.AssignmentColumns([]string{"rooms", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		b.log.Warn("realtime: save session", "err", err.Error())
	}
}

func (b *Broker) deleteSession(pid string) {
	if pid == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
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
// replayed in order, all under the dispatcher lock so that live delivery resumes exactly after.
func (b *Broker) recover(s *socketio.Socket, pid, offset string) bool {
	c := clientOf(s)
	if c == nil {
		return false
	}
	if !modules.ValidID(pid) {
		return false // the client's own string: no pid has NUL, which PostgreSQL refuses in text
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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

	b.mu.Lock()
	recovered := b.replay(ctx, c, from, oldest, rooms)
	b.mu.Unlock()
	if !recovered {
		return false
	}
	b.metrics.recovered.Add(1)
	for room, driveID := range rooms {
		if pageID, ok := strings.CutPrefix(room, "page:"); ok && inPage(c, pageID) {
			b.presence.join(c, pageID, driveID)
			b.statuses.resend(c.s, pageID) // ephemeral: what changed while away is not replayed
		}
	}
	b.saveSession(c)
	return true
}

// replay rejoins the allowed rooms and emits the missed events. Caller holds b.mu.
func (b *Broker) replay(ctx context.Context, c *client, from, oldest int64, rooms map[string]string) bool {
	if from > b.last || (oldest > 0 && from+1 < oldest) {
		return false // from the future, or past retention: a fresh session, refetch over REST
	}
	if oldest == 0 && from < b.last {
		return false // the log was emptied
	}
	names := make([]string, 0, len(rooms))
	for room := range rooms {
		names = append(names, room)
	}
	sort.Strings(names)
	for _, room := range names {
		drive := rooms[room]
		ok, err := b.canJoin(ctx, c, room, drive)
		if err == nil && ok {
			if b.track(c, room, drive) != nil {
				break
			}
			continue
		}
		if err == nil || isNotFound(err) {
			// Lost while away: say so, as a connected socket would have been told, so that the
			// client does not wait for a room that stays silent.
			_ = c.s.Emit("access_revoked", map[string]any{"room": room, "reason": "permission_changed"})
			b.metrics.kicks.Add(1)
		}
	}
	inRooms := map[string]bool{modules.UserRoom(c.userID): true}
	for room := range c.roomsCopy() {
		inRooms[room] = true
	}
	sent := 0
	for cursor := from; cursor < b.last; {
		batch, err := b.events.After(ctx, cursor, 500)
		if err != nil || len(batch) == 0 {
			break
		}
		for _, e := range batch {
			if e.ID > b.last {
				return true
			}
			cursor = e.ID
			rs := e.RoomList()
			addressed := false
			for _, r := range rs {
				if inRooms[r] {
					addressed = true
					break
				}
			}
			if !addressed {
				continue
			}
			sight, ok := b.sight(ctx, permissions.AudienceOf(e), c.userID, nil)
			if !ok {
				continue
			}
			if sent++; sent > b.cfg.MaxReplay {
				b.forgetRooms(c)
				return false // too much to replay: refetch over REST instead
			}
			_ = c.s.EmitWithOffset(e.Type, e.EventID(), sight.Payload)
		}
	}
	return true
}

// forgetRooms leaves every page and drive room (a session that could not be recovered starts
// clean). Caller holds b.mu.
func (b *Broker) forgetRooms(c *client) {
	for room, drive := range c.roomsCopy() {
		b.untrack(c, room, drive)
	}
}

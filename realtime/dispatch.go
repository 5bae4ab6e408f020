package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// errTooManyRooms refuses a join past MaxRoomsPerConn.
var errTooManyRooms = &modules.Error{Kind: modules.KindInvalid, Code: "too_many_rooms", Message: "this connection has joined too many rooms"}

func isNotFound(err error) bool {
	e := modules.As(err)
	return e != nil && e.Kind == modules.KindNotFound
}

// view returns the user's resolution of the drive, from the cache or the database. Caller holds b.mu.
func (b *Broker) view(ctx context.Context, userID, driveID string) (permissions.DriveView, error) {
	if e := b.cache[userID][driveID]; e != nil {
		return e.view, nil
	}
	v, err := b.access.Drive(ctx, userID, driveID)
	if err != nil {
		return permissions.DriveView{}, err
	}
	if len(b.clients[userID]) > 0 { // cache only for connected users
		if b.cache[userID] == nil {
			b.cache[userID] = map[string]*driveEntry{}
		}
		entry := &driveEntry{view: v}
		if until, ok := earliestExpiry(v); ok {
			entry.timer = time.AfterFunc(time.Until(until), func() { b.queueExpiry(driveID) })
		}
		b.cache[userID][driveID] = entry
	}
	b.metrics.resolves.Add(1)
	return v, nil
}

// earliestExpiry is the first future expiry of a grant that decides access in v.
func earliestExpiry(v permissions.DriveView) (time.Time, bool) {
	var first time.Time
	for _, pa := range v.Pages {
		if pa.Until != nil && (first.IsZero() || pa.Until.Before(first)) {
			first = *pa.Until
		}
	}
	return first, !first.IsZero()
}

// queueExpiry asks the dispatcher to re-resolve a drive whose cached grant just expired.
func (b *Broker) queueExpiry(driveID string) {
	d := driveID
	b.qmu.Lock()
	b.pending = append(b.pending, eventlog.Event{Type: expiryMarker, DriveID: &d})
	b.qmu.Unlock()
	select {
	case b.queue <- struct{}{}:
	default:
	}
}

// mayBeIn reports whether a user with view v may be in room. Caller holds b.mu.
func mayBeIn(v permissions.DriveView, room string) bool {
	if pageID, ok := strings.CutPrefix(room, "page:"); ok {
		pa, exists := v.Pages[pageID]
		return exists && pa.View && !pa.Trashed
	}
	if v.Role != permissions.NoRole {
		return true
	}
	for _, pa := range v.Pages {
		if pa.View && !pa.Trashed {
			return true // a grantee who may see some page of the drive
		}
	}
	return false
}

// canJoin checks a join against the cached view. Caller holds b.mu.
func (b *Broker) canJoin(ctx context.Context, c *client, room, driveID string) (bool, error) {
	v, err := b.view(ctx, c.userID, driveID)
	if err != nil {
		return false, err
	}
	return mayBeIn(v, room), nil
}

// track joins c to room of driveID. Caller holds b.mu.
func (b *Broker) track(c *client, room, driveID string) error {
	c.mu.Lock()
	_, already := c.rooms[room]
	if !already && len(c.rooms) >= b.cfg.MaxRoomsPerConn {
		c.mu.Unlock()
		return errTooManyRooms
	}
	c.rooms[room] = driveID
	c.mu.Unlock()
	c.s.Join(room)
	if b.byDrive[driveID] == nil {
		b.byDrive[driveID] = map[*client]struct{}{}
	}
	b.byDrive[driveID][c] = struct{}{}
	return nil
}

// untrack removes c from room. Caller holds b.mu.
func (b *Broker) untrack(c *client, room, driveID string) {
	c.mu.Lock()
	delete(c.rooms, room)
	stillInDrive := false
	for _, d := range c.rooms {
		if d == driveID {
			stillInDrive = true
			break
		}
	}
	c.mu.Unlock()
	c.s.Leave(room)
	if !stillInDrive {
		delete(b.byDrive[driveID], c)
		if len(b.byDrive[driveID]) == 0 {
			delete(b.byDrive, driveID)
		}
	}
}

func (b *Broker) dispatchLoop() {
	defer close(b.stopped)
	for {
		select {
		case <-b.stop:
			return
		case <-b.queue:
		}
		for {
			b.qmu.Lock()
			batch := b.pending
			b.pending = nil
			b.qmu.Unlock()
			if len(batch) == 0 {
				break
			}
			for _, e := range batch {
				if e.Type == expiryMarker {
					b.mu.Lock()
					b.reresolve(*e.DriveID, "permission_expired", "", false)
					dirty := b.takeDirty()
					b.mu.Unlock()
					b.saveSessions(dirty)
					b.statuses.recheck()
					continue
				}
				if e.ID < 0 {
					b.catchUp(-e.ID)
					continue
				}
				if e.ID <= b.lastID() {
					continue // already read from the log
				}
				if e.ID > b.lastID()+1 {
					b.catchUp(e.ID - 1) // committed elsewhere, or an id a rollback skipped
				}
				b.handle(e)
			}
		}
	}
}

func (b *Broker) lastID() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.last
}

// catchUp dispatches from the log every event after the last one up to upTo.
func (b *Broker) catchUp(upTo int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for b.lastID() < upTo {
		events, err := b.events.After(ctx, b.lastID(), 500)
		if err != nil {
			b.log.Error("realtime: catch up", "err", err.Error())
			return
		}
		n := 0
		for _, e := range events {
			if e.ID > upTo {
				break
			}
			b.handle(e)
			n++
		}
		if n == 0 {
			b.advance(upTo) // the rest were never committed
			return
		}
	}
}

func (b *Broker) advance(id int64) {
	b.mu.Lock()
	if id > b.last {
		b.last = id
	}
	b.mu.Unlock()
	b.qmu.Lock()
	if id > b.done {
		b.done = id
	}
	b.progress.Broadcast()
	b.qmu.Unlock()
}

// handle applies and delivers one event, as one step against joins and recoveries.
func (b *Broker) handle(e eventlog.Event) {
	b.mu.Lock()
	viewers := b.pageViewers(e)
	also := b.apply(e)
	b.deliver(e, also, viewers...)
	b.last = e.ID
	dirty := b.takeDirty()
	b.mu.Unlock()
	b.saveSessions(dirty)
	b.presenceFollows(e)
	b.statuses.recheck() // before advance: a revoking write returns with the statuses it ended gone
	b.metrics.events.Add(1)
	b.advance(e.ID)
}

// presenceFollows keeps drive presence in step with membership: who is a member of which drive.
func (b *Broker) presenceFollows(e eventlog.Event) {
	if e.DriveID == nil {
		return
	}
	switch e.Type {
	case "member_added", "member_removed":
		var p struct {
			Member struct {
				UserID string `json:"userId"`
			} `json:"member"`
		}
		_ = json.Unmarshal([]byte(e.Payload), &p)
		b.roster.membership(p.Member.UserID, *e.DriveID, e.Type == "member_added")
	case "drive_deleted":
		b.roster.driveGone(*e.DriveID)
	}
}

// pageViewers returns the ids of the sockets in the rooms of the pages a page_deleted event
// removes: they leave those rooms when the event is applied, yet the event is news they must get.
// Caller holds b.mu.
func (b *Broker) pageViewers(e eventlog.Event) []string {
	if e.Type != "page_deleted" {
		return nil
	}
	var p struct {
		PageIDs []string `json:"pageIds"`
	}
	_ = json.Unmarshal([]byte(e.Payload), &p)
	if len(p.PageIDs) == 0 {
		return nil
	}
	rooms := make([]string, len(p.PageIDs))
	for i, id := range p.PageIDs {
		rooms[i] = modules.PageRoom(id)
	}
	var ids []string
	for _, s := range b.ns.To(rooms...).Sockets() {
		ids = append(ids, s.ID())
	}
	return ids
}

// takeDirty returns and clears the sessions whose rooms changed. Caller holds b.mu.
func (b *Broker) takeDirty() map[*client]struct{} {
	dirty := b.dirty
	if len(dirty) > 0 {
		b.dirty = map[*client]struct{}{}
	}
	return dirty
}

// saveSessions stores changed sessions, outside b.mu: database writes.
func (b *Broker) saveSessions(dirty map[*client]struct{}) {
	for c := range dirty {
		b.saveSession(c)
	}
}

// Event types whose commit changes who may see what.
var accessChanging = map[string]string{
	"member_added":        "member_added",
	"member_removed":      "member_removed",
	"member_role_changed": "role_changed",
	"permission_granted":  "permission_changed",
	"permission_revoked":  "permission_revoked",
	"page_created":        "page_created",
	"page_moved":          "page_moved",
	"page_deleted":        "page_deleted",
	"page_restored":       "page_restored",
	"drive_deleted":       "drive_deleted",
}

type eventFacts struct {
	UserID    string   `json:"userId"`
	SessionID string   `json:"sessionId"`
	Reason    string   `json:"reason"`
	Changed   []string `json:"changed"`
	Changes   []string `json:"changes"`
	Fields    []string `json:"fields"`
	IsPrivate *bool    `json:"isPrivate"`
}

func facts(e eventlog.Event) eventFacts {
	var f eventFacts
	_ = json.Unmarshal([]byte(e.Payload), &f)
	return f
}

// apply enforces what e changes about access, before e itself is delivered. It returns users
// who may receive e although they can no longer see its page, with the view they had before.
// Caller holds b.mu.
func (b *Broker) apply(e eventlog.Event) map[string]permissions.DriveView {
	switch e.Type {
	case "session_ended":
		f := facts(e)
		b.statuses.keyEnded(f.UserID, f.SessionID)
		for c := range b.clients[f.UserID] {
			c.mu.Lock()
			match := c.sessionID == f.SessionID
			c.mu.Unlock()
			if match {
				reason := "logout"
				if f.Reason == "key_revoked" { // an agent's key: its id is the session's
					reason = f.Reason
				}
				_ = c.s.Emit("access_revoked", map[string]any{"room": modules.UserRoom(c.userID), "reason": reason})
				c.s.Disconnect(false)
			}
		}
		return nil
	case "user_deleted":
		f := facts(e)
		b.statuses.agentGone(f.UserID)
		for c := range b.clients[f.UserID] {
			_ = c.s.Emit("access_revoked", map[string]any{"room": modules.UserRoom(c.userID), "reason": "user_deleted"})
			c.s.Disconnect(false)
		}
		return nil
	}
	if e.DriveID == nil {
		return nil
	}
	reason, changes := accessChanging[e.Type]
	if !changes && e.Type == "page_updated" {
		f := facts(e)
		for _, list := range [][]string{f.Changed, f.Changes, f.Fields} {
			for _, field := range list {
				if field == "isPrivate" {
					reason, changes = "page_private", true
				}
			}
		}
	}
	if changes {
		pageID := ""
		if e.PageID != nil {
			pageID = *e.PageID
		}
		lost := b.reresolve(*e.DriveID, reason, pageID, e.Type == "page_deleted")
		if e.Type == "page_deleted" {
			return lost // a page deleted for good is announced to those who could see it
		}
	}
	return nil
}

// reresolve recomputes every connected user's view of the drive and removes sockets from the
// rooms they may no longer be in. Caller holds b.mu.
//
// Sockets in the drive's room are also told about each page they could see and no longer can
// (access_revoked for "page:<id>"), so that their page tree does not keep a stale entry. It
// returns the users who could view pageID before and cannot now ("" for none), with their view
// from before: the event that removed a page for good still reaches them.
func (b *Broker) reresolve(driveID, reason, pageID string, announced bool) map[string]permissions.DriveView {
	b.statuses.driveChanged(driveID)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	users := map[string]bool{}
	old := map[string]permissions.DriveView{}
	for userID, drives := range b.cache {
		if e := drives[driveID]; e != nil {
			users[userID] = true
			old[userID] = e.view
			e.stop()
			delete(drives, driveID)
		}
	}
	lost := map[string]permissions.DriveView{}
	told := map[*client]map[string]bool{} // rooms each socket was already told it lost
	for c := range b.byDrive[driveID] {
		users[c.userID] = true
	}
	for userID := range users {
		v, err := b.view(ctx, userID, driveID)
		failed := err != nil
		if failed {
			b.log.Error("realtime: re-resolve access", "err", err.Error(), "user", userID, "drive", driveID)
		}
		for c := range b.clients[userID] {
			for room, d := range c.roomsCopy() {
				if d != driveID || (!failed && mayBeIn(v, room)) {
					continue
				}
				b.untrack(c, room, d)
				b.metrics.kicks.Add(1)
				_ = c.s.Emit("access_revoked", map[string]any{"room": room, "reason": reason})
				if told[c] == nil {
					told[c] = map[string]bool{}
				}
				told[c][room] = true
				if pageID, isPage := strings.CutPrefix(room, "page:"); isPage {
					b.presence.leave(c, pageID)
					b.clearSelection(c, pageID)
				}
				b.dirty[c] = struct{}{}
			}
		}
		prev, had := old[userID]
		if !had || failed {
			continue
		}
		for id, pa := range prev.Pages {
			if !pa.View || v.Pages[id].View {
				continue
			}
			if id == pageID {
				lost[userID] = prev
			}
			if _, exists := v.Pages[id]; !exists && announced {
				continue // deleted for good: the event itself tells them
			}
			room := modules.PageRoom(id)
			for c := range b.clients[userID] {
				c.mu.Lock()
				_, inDrive := c.rooms[modules.DriveRoom(driveID)]
				c.mu.Unlock()
				if inDrive && !told[c][room] { // sockets in the page room were told above
					_ = c.s.Emit("access_revoked", map[string]any{"room": room, "reason": reason})
				}
			}
		}
	}
	return lost
}

// deliver emits e to the sockets of its rooms that may see it, each getting what its user may
// see of it (permissions.Audience), every distinct payload encoded once. Caller holds b.mu.
// also holds the views that users who lost e's page had before e (they still get e); extra
// names further rooms (socket ids) to deliver to.
func (b *Broker) deliver(e eventlog.Event, also map[string]permissions.DriveView, extra ...string) {
	rooms := append(e.RoomList(), extra...)
	if len(rooms) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	aud := permissions.AudienceOf(e)
	decided := map[string]permissions.Sight{} // per user: one decision for all its sockets
	hidden := map[string]bool{}
	var others []*socketio.Socket // sockets that get a redacted variant
	opClient := ""
	if e.Type == "doc_op" {
		opClient = docOpClient(e.Payload)
	}
	keep := func(s *socketio.Socket) bool {
		c := clientOf(s)
		if c == nil || opClient != "" && ownDocOp(c, opClient) {
			return false
		}
		sight, seen := decided[c.userID]
		if !seen && !hidden[c.userID] {
			var ok bool
			sight, ok = b.sight(ctx, aud, c.userID, also)
			if !ok {
				hidden[c.userID] = true
				return false
			}
			decided[c.userID] = sight
		}
		if hidden[c.userID] {
			return false
		}
		b.metrics.delivered.Add(1)
		if sight.Variant != 0 {
			others = append(others, s)
			return false
		}
		return true
	}
	if err := b.ns.To(rooms...).Filter(keep).EmitWithOffset(e.Type, e.EventID(), aud.Whole()); err != nil {
		b.log.Error("realtime: emit", "err", err.Error(), "type", e.Type)
	}
	for _, s := range others {
		_ = s.EmitWithOffset(e.Type, e.EventID(), decided[clientOf(s).userID].Payload)
	}
}

// sight is what userID may see of an event, resolving with the broker's cache (or, for a user
// in also, the view it had before the event). It fails closed: the client recovers missed
// events over REST. Caller holds b.mu.
func (b *Broker) sight(ctx context.Context, aud *permissions.Audience, userID string, also map[string]permissions.DriveView) (permissions.Sight, bool) {
	lookup := func(ctx context.Context, driveID string) (permissions.DriveView, error) {
		if v, ok := also[userID]; ok && v.DriveID == driveID {
			return v, nil
		}
		return b.view(ctx, userID, driveID)
	}
	sight, ok, err := aud.Show(ctx, userID, lookup)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			b.log.Error("realtime: resolve for delivery", "err", err.Error())
		}
		return permissions.Sight{}, false
	}
	return sight, ok
}

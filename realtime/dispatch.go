package realtime

import (
	"context"
	"encoding/json"
	"errors"

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

// mayBeIn reports whether a user with view v may be in the room named name (a room of v's
// drive, as the client's rooms hold it).
func mayBeIn(v permissions.DriveView, name string) bool {
	room, ok := modules.ParseRoom(name)
	return ok && v.MayJoin(room)
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

// handle applies and delivers one event, as one step against joins and recoveries: what it
// must query (the views an access change re-resolves, the views of recipients not cached) it
// resolves before taking b.mu or, for recipients, with b.mu let go and the step begun again.
func (b *Broker) handle(e eventlog.Event) {
	ctx, cancel := b.within(stepTimeout)
	defer cancel()
	env := decode(e)
	change := b.prepare(ctx, e)
	b.mu.Lock()
	witnesses := b.witnesses(e)
	also := b.apply(e, change)
	b.deliver(ctx, e, env, also, witnesses...)
	b.last = e.ID
	dirty := b.takeDirty()
	b.mu.Unlock()
	b.saveSessions(dirty...)
	b.presenceFollows(e)
	b.statuses.recheck() // before advance: a revoking write returns with the statuses it ended gone
	b.metrics.events.Add(1)
	b.advance(e.ID)
}

// envelope is what dispatch reads of an event's payload, decoded once per event: the pages and
// drives it names (for its audience) and, for a doc_op, the client that sent the op, whose own
// socket does not get it back.
type envelope struct {
	permissions.Refs
	ClientID string `json:"clientId"`
}

func decode(e eventlog.Event) envelope {
	var env envelope
	_ = json.Unmarshal([]byte(e.Payload), &env) // the log holds our own JSON objects
	return env
}

// presenceFollows keeps drive presence in step with membership: who is a member of which drive.
func (b *Broker) presenceFollows(e eventlog.Event) {
	a := e.Access
	if a == nil || e.DriveID == nil {
		return
	}
	switch a.Membership {
	case eventlog.Joined, eventlog.Left:
		for _, userID := range a.Users {
			b.roster.membership(userID, *e.DriveID, a.Membership == eventlog.Joined)
		}
	case eventlog.Dissolved:
		b.roster.driveGone(*e.DriveID)
	}
}

// witnesses returns the ids of the sockets that may leave a room by e and yet must receive it:
// for an event that removes pages, those in its rooms and in the rooms of the pages it removes.
// Whether each gets it is still for e's audience to say. Caller holds b.mu.
func (b *Broker) witnesses(e eventlog.Event) []string {
	if e.Access == nil || len(e.Access.Removed) == 0 {
		return nil
	}
	rooms := roomNames(e.Rooms)
	for _, id := range e.Access.Removed {
		rooms = append(rooms, modules.PageRoom(id).String())
	}
	var ids []string
	for _, s := range b.ns.To(rooms...).Sockets() {
		ids = append(ids, s.ID())
	}
	return ids
}

func roomNames(rooms []modules.Room) []string {
	names := make([]string, len(rooms))
	for i, r := range rooms {
		names[i] = r.String()
	}
	return names
}

// takeDirty returns and clears the sessions whose rooms changed, to be saved outside b.mu.
// Caller holds b.mu.
func (b *Broker) takeDirty() []*client {
	if len(b.dirty) == 0 {
		return nil
	}
	dirty := make([]*client, 0, len(b.dirty))
	for c := range b.dirty {
		dirty = append(dirty, c)
	}
	b.dirty = map[*client]struct{}{}
	return dirty
}

// prepare begins what e changes about the access to a drive: it resolves, outside b.mu, the
// views of the users the change concerns. It returns nil for an event that changes none.
func (b *Broker) prepare(ctx context.Context, e eventlog.Event) *accessChange {
	a := e.Access
	if a == nil || e.DriveID == nil || a.Scope != eventlog.ScopeUsers && a.Scope != eventlog.ScopeDrive {
		return nil
	}
	return b.beginChange(ctx, *e.DriveID, a)
}

// apply enforces what e changes about access (e.Access), before e itself is delivered; change
// is prepare's resolution of it. It returns users who may receive e although they can no longer
// see its page, with the view they had before. Caller holds b.mu.
func (b *Broker) apply(e eventlog.Event, change *accessChange) map[string]permissions.DriveView {
	a := e.Access
	if a == nil {
		return nil
	}
	switch a.Scope {
	case eventlog.ScopeSession:
		b.known.endedLocked(a)
		for _, userID := range a.Users {
			b.statuses.keyEnded(userID, a.Session)
		}
		b.closeSockets(a, func(c *client) bool { return c.identity().SessionID == a.Session })
	case eventlog.ScopeAccounts:
		b.known.endedLocked(a)
		for _, userID := range a.Users {
			b.statuses.agentGone(userID)
		}
		b.closeSockets(a, func(*client) bool { return true })
	case eventlog.ScopeUsers, eventlog.ScopeDrive:
		if change == nil {
			return nil
		}
		pageID := ""
		if e.PageID != nil {
			pageID = *e.PageID
		}
		lost := b.finishChange(change, pageID)
		if a.ForGood {
			return lost // a page deleted for good is announced to those who could see it
		}
	}
	return nil
}

// closeSockets disconnects the sockets of a's users that match, telling each why. Caller holds
// b.mu.
func (b *Broker) closeSockets(a *eventlog.Access, match func(*client) bool) {
	for _, userID := range a.Users {
		for c := range b.clients[userID] {
			if match(c) {
				_ = c.s.Emit("access_revoked", map[string]any{"room": modules.UserRoom(userID).String(), "reason": a.Reason})
				c.s.Disconnect(false)
			}
		}
	}
}

// concerned returns the users whose view of driveID the change a concerns, among those this
// process holds a view of the drive for: the users a names, or everyone for a change of the
// whole drive. Caller holds b.mu.
func (b *Broker) concerned(driveID string, a *eventlog.Access) map[string]bool {
	users := map[string]bool{}
	holds := func(userID string) bool { return b.cache[userID][driveID] != nil }
	if a.Scope == eventlog.ScopeUsers {
		for _, userID := range a.Users {
			if holds(userID) {
				users[userID] = true
			}
		}
		return users
	}
	for userID := range b.cache {
		if holds(userID) {
			users[userID] = true
		}
	}
	for c := range b.byDrive[driveID] {
		users[c.userID] = true
	}
	return users
}

// accessChange is a change of access to one drive being applied: the users it concerns, with
// the views they had before it and those resolved after it.
type accessChange struct {
	driveID string
	access  *eventlog.Access
	users   map[string]bool
	old     map[string]permissions.DriveView
	views   map[string]permissions.DriveView // users whose resolution failed are missing
}

// beginChange starts applying a to driveID: under b.mu it bumps the drive's generation and drops
// the cached views of the users it concerns, so that joins from then on resolve afresh; then it
// resolves those users' views outside b.mu. Only the dispatcher bumps generations, so these
// views cannot go stale before finishChange commits them.
func (b *Broker) beginChange(ctx context.Context, driveID string, a *eventlog.Access) *accessChange {
	ch := &accessChange{driveID: driveID, access: a, old: map[string]permissions.DriveView{}, views: map[string]permissions.DriveView{}}
	b.mu.Lock()
	b.gens.bump(driveID)
	b.statuses.driveChanged(driveID)
	ch.users = b.concerned(driveID, a)
	for userID := range ch.users {
		if e := b.cache[userID][driveID]; e != nil {
			ch.old[userID] = e.view
			e.stop()
			delete(b.cache[userID], driveID)
		}
	}
	b.mu.Unlock()
	for userID := range ch.users {
		v, err := b.access.Drive(ctx, userID, driveID)
		if err != nil {
			b.log.Error("realtime: re-resolve access", "err", err.Error(), "user", userID, "drive", driveID)
			continue
		}
		b.metrics.resolves.Add(1)
		ch.views[userID] = v
	}
	return ch
}

// reresolve applies a change a of access to driveID at once (begun and finished in one go).
func (b *Broker) reresolve(ctx context.Context, driveID string, a *eventlog.Access) {
	ch := b.beginChange(ctx, driveID, a)
	b.mu.Lock()
	b.finishChange(ch, "")
	b.mu.Unlock()
}

// finishChange caches the views ch resolved and removes the sockets of its users from the rooms
// they may no longer be in, telling them the change's reason. Caller holds b.mu.
//
// Sockets in the drive's room are also told about each page they could see and no longer can
// (access_revoked for "page:<id>"), so that their page tree does not keep a stale entry. It
// returns the users who could view pageID before and cannot now ("" for none), with their view
// from before: the event that removed a page for good still reaches them.
func (b *Broker) finishChange(ch *accessChange, pageID string) map[string]permissions.DriveView {
	driveID, a := ch.driveID, ch.access
	lost := map[string]permissions.DriveView{}
	told := map[*client]map[string]bool{} // rooms each socket was already told it lost
	for userID := range ch.users {
		v, resolved := ch.views[userID]
		if resolved {
			b.storeLocked(userID, driveID, v)
		}
		for c := range b.clients[userID] {
			for room, d := range c.roomsCopy() {
				if d != driveID || (resolved && mayBeIn(v, room)) {
					continue
				}
				b.untrack(c, room, d)
				b.metrics.kicks.Add(1)
				_ = c.s.Emit("access_revoked", map[string]any{"room": room, "reason": a.Reason})
				if told[c] == nil {
					told[c] = map[string]bool{}
				}
				told[c][room] = true
				if r, _ := modules.ParseRoom(room); r.Kind == modules.RoomPage {
					b.presence.leave(c, r.ID)
					b.clearSelection(c, r.ID)
				}
				b.dirty[c] = struct{}{}
			}
		}
		prev, had := ch.old[userID]
		if !had || !resolved {
			continue
		}
		for id, pa := range prev.Pages {
			if !pa.View || v.Pages[id].View {
				continue
			}
			if id == pageID {
				lost[userID] = prev
			}
			if _, exists := v.Pages[id]; !exists && a.ForGood {
				continue // deleted for good: the event itself tells them
			}
			room := modules.PageRoom(id).String()
			driveRoom := modules.DriveRoom(driveID).String()
			for c := range b.clients[userID] {
				c.mu.Lock()
				_, inDrive := c.rooms[driveRoom]
				c.mu.Unlock()
				if inDrive && !told[c][room] { // sockets in the page room were told above
					_ = c.s.Emit("access_revoked", map[string]any{"room": room, "reason": a.Reason})
				}
			}
		}
	}
	return lost
}

// deliver emits e to the sockets of its rooms that may see it, each getting what its user may
// see of it (permissions.Audience), every distinct payload encoded once. Caller holds b.mu.
// env is e's payload as dispatch reads it; also holds the views that users who lost e's page
// had before e (they still get e); extra names further rooms (socket ids) to deliver to.
//
// It decides for every recipient's user before emitting to any. A recipient's view that is not
// cached is resolved with b.mu let go, and the decisions are then made again: sockets that
// joined meanwhile are among the recipients, and those that left are not.
func (b *Broker) deliver(ctx context.Context, e eventlog.Event, env envelope, also map[string]permissions.DriveView, extra ...string) {
	rooms := append(roomNames(e.Rooms), extra...)
	if len(rooms) == 0 {
		return
	}
	aud := permissions.NewAudience(e, env.Refs)
	set := viewSet{}
	var (
		sockets []*socketio.Socket
		d       decision
	)
	for {
		// Sockets enter rooms (their user's too) under b.mu only: once nothing is missing, every
		// socket of the selection was decided for, and the selection stays right while b.mu is held.
		sockets = b.ns.To(rooms...).Sockets()
		var missing map[viewKey]struct{}
		d, missing = b.decide(ctx, aud, sockets, also, set)
		if len(missing) == 0 {
			break
		}
		b.mu.Unlock()
		for k := range missing {
			set[k] = b.fetch(ctx, k.userID, k.driveID)
		}
		b.mu.Lock()
		b.keepLocked(set)
	}
	// One pass over the selection: the sockets that get the event as it is keep their place in
	// sockets (filtered in place), those that get a redacted variant go to others.
	var others []variantFor
	whole := sockets[:0]
	for i, s := range sockets {
		k := d.of[i]
		if k < 0 || env.ClientID != "" && ownDocOp(clientOf(s), env.ClientID) {
			continue
		}
		b.metrics.delivered.Add(1)
		if sight := d.sights[k]; sight.Variant != 0 {
			others = append(others, variantFor{s, sight.Payload})
			continue
		}
		whole = append(whole, s)
	}
	if err := b.ns.EmitToWithOffset(whole, e.Type, e.EventID(), aud.Whole()); err != nil {
		b.log.Error("realtime: emit", "err", err.Error(), "type", e.Type)
	}
	for _, o := range others {
		_ = o.s.EmitWithOffset(e.Type, e.EventID(), o.payload)
	}
}

// variantFor is a socket that gets a redacted variant of an event.
type variantFor struct {
	s       *socketio.Socket
	payload json.RawMessage
}

// decision is what each socket of a selection gets of an event: of[i] indexes sights for the
// i-th socket, or is -1 when it gets nothing. Sockets of one user share their entry.
type decision struct {
	of     []int32
	sights []permissions.Sight
}

// decide is what the user of each of sockets may see of aud's event, looking views up in the
// cache, in also and in set, without querying; the views it lacks are returned in missing, and
// the decision is then not to be used. Caller holds b.mu.
func (b *Broker) decide(ctx context.Context, aud *permissions.Audience, sockets []*socketio.Socket, also map[string]permissions.DriveView, set viewSet) (decision, map[viewKey]struct{}) {
	d := decision{of: make([]int32, len(sockets))}
	byUser := map[string]int32{}
	missing := map[viewKey]struct{}{}
	for i, s := range sockets {
		c := clientOf(s)
		if c == nil {
			d.of[i] = -1
			continue
		}
		k, done := byUser[c.userID]
		if !done {
			sight, ok := b.sight(ctx, aud, c.userID, func(_ context.Context, driveID string) (permissions.DriveView, error) {
				if v, ok := also[c.userID]; ok && v.DriveID == driveID {
					return v, nil
				}
				return b.lookupLocked(set, c.userID, driveID, missing)
			})
			k = -1
			if ok {
				k = int32(len(d.sights))
				d.sights = append(d.sights, sight)
			}
			byUser[c.userID] = k
		}
		d.of[i] = k
	}
	return d, missing
}

// sight is what userID may see of an event, with its views from lookup. It fails closed: the
// client recovers missed events over REST.
func (b *Broker) sight(ctx context.Context, aud *permissions.Audience, userID string, lookup permissions.DriveLookup) (permissions.Sight, bool) {
	sight, ok, err := aud.Show(ctx, userID, lookup)
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, errUnresolved) {
			b.log.Error("realtime: resolve for delivery", "err", err.Error())
		}
		return permissions.Sight{}, false
	}
	return sight, ok
}

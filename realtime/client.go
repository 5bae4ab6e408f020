package realtime

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"

	"github.com/pagespace/pagespace/internal/schedule"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/permissions"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// client is the broker's state for one socket.
type client struct {
	s      *socketio.Socket
	userID string
	since  int64 // the last event dispatched before the socket joined its user's room

	// name and agent (an agent, signed in with an API key: its sessionID is the key's id) are
	// set under mu once the connect has counted the socket, then never change: read without mu
	// after the connect.
	name  string
	agent bool

	mu         sync.Mutex
	released   bool // the socket ended (release): nothing is scheduled for it any more
	sessionID  string
	expires    time.Time
	expiry     schedule.Slot[*client] // auth_expiring, then the disconnect at expiry (expiry.go)
	warned     bool                   // auth_expiring was sent for expires
	rooms      map[string]string      // joined page/drive rooms → drive id
	buckets    [limitCount]tokenBucket
	strikes    int
	cursor     *cursorState
	docClients map[string]struct{} // clientIds of the doc_ops this socket submitted
}

// clientOf is the broker's client of s (its socket data), or nil before the connect counted it.
func clientOf(s *socketio.Socket) *client {
	c, _ := s.Data().(*client)
	return c
}

type connectAuth struct {
	Token string `json:"token"`
}

// authenticate is the connect middleware: a valid access token, within the per-user limit.
func (b *Broker) authenticate(s *socketio.Socket, raw json.RawMessage) error {
	var a connectAuth
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &a)
	}
	token := a.Token
	if token == "" {
		// A cookie rides on cross-site requests too: it counts only from the server's own
		// pages (or ALLOWED_ORIGINS), the CSRF check the refresh cookie has.
		if r := s.Handshake().Request; r != nil && modules.SameOrigin(r, b.cfg.AllowedOrigins) {
			if ck, err := r.Cookie("ps_access"); err == nil {
				token = ck.Value
			}
		}
	}
	if token == "" {
		return unauthorized("invalid_token")
	}
	id, exp, err := b.verify.Verify(token)
	if err != nil {
		code := "invalid_token"
		if e := modules.As(err); e != nil && e.PublicCode() == "token_expired" {
			code = "token_expired"
		}
		return unauthorized(code)
	}
	if !exp.After(time.Now()) {
		// The verifier's leeway is for clock skew between processes; a socket would be cut at
		// exp at once, so refuse it now with the code that tells the client to refresh.
		return unauthorized("token_expired")
	}
	c := &client{s: s, userID: id.UserID, sessionID: id.SessionID, expires: exp, rooms: map[string]string{}}
	// The slot is taken here, under the lock, not in onConnect: the client gets its CONNECT reply
	// before OnConnect runs, so a count taken at connect time would let a quick second dial in.
	// The user's room is joined under the lock too: a dispatch decides for every socket of its
	// rooms before emitting to any (deliver); so every event after since is addressed to it.
	var (
		known    knownSession
		isKnown  bool
		knownGen uint64
	)
	b.mu.Lock()
	n := len(b.clients[c.userID])
	if n < b.cfg.MaxConnsPerUser {
		b.addClientLocked(c)
		c.since = b.last
		s.SetData(c)
		s.Join(modules.UserRoom(c.userID).String())
		known, isKnown = b.known.lookupLocked(id, time.Now())
		knownGen = b.known.gen
	}
	b.mu.Unlock()
	if n >= b.cfg.MaxConnsPerUser {
		b.metrics.refused.Add(1)
		return &socketio.ConnectError{Message: "too many connections", Data: map[string]string{"code": "too_many_connections"}}
	}
	s.OnClose(func() { b.release(c) })
	// The session is checked after the socket is counted among its user's, not before: a logout
	// that commits after this read is dispatched to a socket already listed, which it then
	// disconnects; one that committed before is seen here. Either way no socket outlives its
	// session. The same query names the user (a user deleted is a session ended). A refusal runs
	// release through OnClose. A session checked lately by another socket is not checked again
	// (knownSessions says why that holds too).
	if isKnown {
		b.name(c, known.name, known.agent)
		return nil
	}
	name, agent, err := b.verify.Connecting(b.ctx, id)
	if err != nil {
		return b.sessionError(err)
	}
	b.mu.Lock()
	b.known.storeLocked(id, knownGen, name, agent, time.Now())
	b.mu.Unlock()
	b.name(c, name, agent)
	return nil
}

// name sets c's user name and kind, read once c was counted, using the copy of the name another
// socket of the user holds when it is the same (see shareStrings).
func (b *Broker) name(c *client, name string, agent bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for other := range b.clients[c.userID] {
		if other == c {
			continue
		}
		other.mu.Lock()
		known := other.name
		other.mu.Unlock()
		if known == "" {
			continue // not named yet
		}
		if known == name {
			name = known
		}
		break
	}
	c.mu.Lock()
	c.name, c.agent = name, agent
	c.mu.Unlock()
}

// sessionError turns a failed session check into the connect refusal: unauthorized
// ("invalid_token", as REST answers an ended session) or, when the check itself failed, internal.
func (b *Broker) sessionError(err error) error {
	if err == nil {
		return nil
	}
	if e := modules.As(err); e != nil && e.Kind == modules.KindUnauthorized {
		return unauthorized("invalid_token")
	}
	b.log.Error("realtime: session check", "err", err.Error())
	return &socketio.ConnectError{Message: "internal error", Data: map[string]string{"code": "internal"}}
}

func unauthorized(code string) error {
	return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"code": code}}
}

// identity is the user and the session of the socket's current access token.
func (c *client) identity() modules.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := modules.Identity{UserID: c.userID, SessionID: c.sessionID}
	if c.agent {
		id.KeyID = c.sessionID
	}
	return id
}

func (b *Broker) onConnect(s *socketio.Socket) {
	c := clientOf(s)
	if c == nil {
		return
	}
	b.metrics.connects.Add(1)
	c.armExpiry(b)
	if !s.Recovered() {
		b.saveSession(c)
	}
	b.roster.connect(c)
}

func (b *Broker) onDisconnect(s *socketio.Socket, reason string) {
	c := clientOf(s)
	if c == nil {
		return
	}
	if reason == "outbound queue full" {
		b.metrics.dropped.Add(1)
	}
	// The rest of the clean-up is release, which Socket.OnClose runs right after this.
	if reason == "client namespace disconnect" {
		b.deleteSession(s.PID()) // a deliberate leave: nothing to recover
	}
}

// release forgets a socket that ended: its timers, rooms, slot and presence. Socket.OnClose runs
// it once for every socket that passed authentication: after OnDisconnect for one that connected,
// and also for one dropped before it connected (recovery may have restored rooms by then).
func (b *Broker) release(c *client) {
	c.mu.Lock()
	c.released = true
	b.expiries.Cancel(&c.expiry)
	c.mu.Unlock()
	b.mu.Lock()
	for room, drive := range c.roomsCopy() {
		b.untrack(c, room, drive)
	}
	b.removeClientLocked(c)
	b.mu.Unlock()
	b.presence.dropClient(c)
	b.clearSelection(c, "")
	b.roster.disconnect(c)
}

// addClientLocked counts c among its user's sockets. Caller holds b.mu; c is not yet seen by
// anyone else.
func (b *Broker) addClientLocked(c *client) {
	sockets := b.clients[c.userID]
	if sockets == nil {
		sockets = map[*client]struct{}{}
		b.clients[c.userID] = sockets
	}
	for other := range sockets {
		c.shareStrings(other)
		break
	}
	sockets[c] = struct{}{}
}

// shareStrings points c's user id and session id at other's copies where they are equal: each
// socket decoded its own from its token (some 100 bytes a socket), while the sockets of one user
// mostly hold the same. The name is shared once read (Broker.name). c is not yet seen by anyone
// else.
func (c *client) shareStrings(other *client) {
	other.mu.Lock()
	defer other.mu.Unlock()
	c.userID = other.userID
	if c.sessionID == other.sessionID {
		c.sessionID = other.sessionID
	}
}

// removeClientLocked forgets c, and its user's access cache with the user's last socket. Caller
// holds b.mu.
func (b *Broker) removeClientLocked(c *client) {
	delete(b.clients[c.userID], c)
	if len(b.clients[c.userID]) == 0 {
		delete(b.clients, c.userID)
		for _, e := range b.cache[c.userID] {
			e.stop()
		}
		delete(b.cache, c.userID)
	}
}

func (c *client) roomsCopy() map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]string, len(c.rooms))
	for k, v := range c.rooms {
		out[k] = v
	}
	return out
}

// allow applies the per-socket rate limit kind. A socket that keeps flooding is disconnected.
func (b *Broker) allow(c *client, kind limitKind, ack socketio.AckFunc) bool {
	now := b.limits.now()
	c.mu.Lock()
	allowed := c.buckets[kind].take(b.limits.rates[kind], now)
	if allowed {
		c.strikes = 0
	} else {
		c.strikes++
	}
	strikes := c.strikes
	c.mu.Unlock()
	if allowed {
		return true
	}
	b.metrics.rateLimited.Add(1)
	fail(ack, "rate_limited", "too many events; slow down")
	if strikes > 100 {
		c.s.Disconnect(true)
	}
	return false
}

// handler wraps a client event handler with identity, rate limiting and panics-as-errors.
func (b *Broker) handler(fn func(c *client, args socketio.Args, ack socketio.AckFunc)) socketio.EventHandler {
	return b.limited(fn, eventLimit)
}

func (b *Broker) presenceHandler(fn func(c *client, args socketio.Args, ack socketio.AckFunc)) socketio.EventHandler {
	return b.limited(fn, presenceLimit)
}

func (b *Broker) limited(fn func(c *client, args socketio.Args, ack socketio.AckFunc), kind limitKind) socketio.EventHandler {
	return func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		c := clientOf(s)
		if c == nil || !b.allow(c, kind, ack) {
			return
		}
		fn(c, args, ack)
	}
}

func (b *Broker) registerHandlers() {
	b.ns.On("join_page", b.handler(b.joinPage))
	b.ns.On("leave_page", b.handler(b.leavePage))
	b.ns.On("join_drive", b.handler(b.joinDrive))
	b.ns.On("leave_drive", b.handler(b.leaveDrive))
	b.ns.On("typing_start", b.presenceHandler(b.presence.typingStart))
	b.ns.On("typing_stop", b.presenceHandler(b.presence.typingStop))
	b.ns.On("cursor_move", b.presenceHandler(b.presence.cursorMove))
	b.ns.On("activity", b.presenceHandler(b.activity))
	b.ns.On("refresh_auth", b.handler(b.refreshAuth))
	b.ns.On("agent_status", b.handler(b.agentStatus))
	b.registerDocHandlers()
	b.registerStreamHandlers()
}

// decodeArg decodes argument i by the rules of a REST body (modules.DecodeJSON): exact keys,
// no unknown or repeated ones, strings of valid UTF-8 without NUL. A binary argument fails.
func decodeArg(args socketio.Args, i int, v any) bool {
	raw := args.Raw(i)
	if raw == nil {
		return false
	}
	if _, binary := args.Bytes(i); binary {
		return false
	}
	return modules.DecodeJSON(bytes.NewReader(raw), v) == nil
}

// idArg reads a room target given either as a string or as {pageId}/{driveId}. It must be
// id-shaped (modules.ValidID): ids reach queries, and PostgreSQL refuses NUL in text.
func idArg(args socketio.Args, key string) (string, bool) {
	if args.Len() < 1 {
		return "", false
	}
	var id string
	if raw := args.Raw(0); len(raw) >= 2 && raw[0] == '"' && raw[len(raw)-1] == '"' && !bytes.ContainsRune(raw, '\\') {
		// A plain JSON string (the packet's JSON was validated): its bytes are the id, without
		// the strict decoder's two json.Decoders and their buffers on every join.
		id = string(raw[1 : len(raw)-1])
	} else if !decodeArg(args, 0, &id) {
		var obj map[string]string
		if !decodeArg(args, 0, &obj) || len(obj) != 1 {
			return "", false
		}
		var ok bool
		if id, ok = obj[key]; !ok {
			return "", false
		}
	}
	id = trimmedID(id)
	return id, validRoomID(id)
}

func trimmedID(id string) string { return strings.TrimSpace(id) }

func validRoomID(id string) bool { return modules.ValidID(id) && len(id) <= 64 }

func (b *Broker) joinPage(c *client, args socketio.Args, ack socketio.AckFunc) {
	pageID, valid := idArg(args, "pageId")
	if !valid {
		fail(ack, "invalid_request", "join_page takes a pageId")
		return
	}
	ctx, cancel := b.within(stepTimeout)
	defer cancel()
	viewers, joined := b.enterPage(ctx, c, pageID, ack)
	if joined {
		b.statuses.answer(pageID, func(agents []AgentStatus) {
			ok(ack, map[string]any{"pageId": pageID, "viewers": viewers, "agentStatuses": agents})
		})
	}
}

// enterPage checks that c's user may view pageID, joins its room (the check and the join one
// step against revocations) and adds the user to its viewers, which it returns. On refusal it
// answers the ack and returns false.
//
// The check that decides is the join's, against the user's view of the page's drive (withView).
// Finding that drive takes a query, unless a view the user holds in the cache lists the page:
// pages never move across drives, and a cached view is what the join checks anyway, current up
// to the last access change dispatched here. (A revocation committed but not dispatched yet then
// takes the socket out of the room when it is, in log order, as it does a join checked just
// before the commit; the query would have refused it a moment earlier.)
func (b *Broker) enterPage(ctx context.Context, c *client, pageID string, ack socketio.AckFunc) ([]Viewer, bool) {
	driveID, known := b.cachedDriveOf(c.userID, pageID)
	if !known {
		pa, err := b.pageAccess(ctx, c.userID, pageID)
		if err != nil && !isNotFound(err) {
			b.failErr(ack, err)
			return nil, false
		}
		if err != nil || !pa.CanOpen() {
			fail(ack, "not_found", "page not found")
			return nil, false
		}
		driveID = pa.DriveID
	}
	if !b.join(ctx, c, modules.PageRoom(pageID), driveID, "page not found", ack) {
		return nil, false
	}
	return b.presence.join(c, pageID, driveID), true
}

// pageAccess is userID's access on pageID (Access.Page), one query for the joins that ask at once.
func (b *Broker) pageAccess(ctx context.Context, userID, pageID string) (permissions.PageAccess, error) {
	type answer struct {
		pa  permissions.PageAccess
		err error
	}
	a, err := b.shared(ctx, "page\x00"+userID+"\x00"+pageID, func(ctx context.Context) any {
		pa, err := b.access.Page(ctx, userID, pageID)
		return answer{pa, err}
	})
	if err != nil {
		return permissions.PageAccess{}, err
	}
	return a.(answer).pa, a.(answer).err
}

// cachedDriveOf returns the drive of pageID when one of the views of userID in the cache lists
// the page.
func (b *Broker) cachedDriveOf(userID, pageID string) (string, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for driveID, e := range b.cache[userID] {
		if _, ok := e.view.Pages[pageID]; ok {
			return driveID, true
		}
	}
	return "", false
}

// join checks and joins room of driveID with a view no revocation applied since has made stale
// (withView), so that the check and the join are ordered as one step against revocations. On refusal it answers the ack and returns false.
func (b *Broker) join(ctx context.Context, c *client, room modules.Room, driveID, notFound string, ack socketio.AckFunc) bool {
	_, joined := b.joinView(ctx, c, room, driveID, notFound, ack)
	return joined
}

// joinView is join that also returns the user's view of the drive the join was checked with.
func (b *Broker) joinView(ctx context.Context, c *client, room modules.Room, driveID, notFound string, ack socketio.AckFunc) (permissions.DriveView, bool) {
	var allowed bool
	var tracked error
	v, err := b.withView(ctx, c.userID, driveID, func(v permissions.DriveView) {
		if allowed = v.MayJoin(room); allowed {
			tracked = b.track(c, room.String(), driveID)
		}
	})
	if err == nil {
		err = tracked
	}
	switch {
	case err != nil:
		b.failErr(ack, err)
		return v, false
	case !allowed:
		fail(ack, "not_found", notFound)
		return v, false
	}
	b.saveSession(c)
	return v, true
}

func (b *Broker) leavePage(c *client, args socketio.Args, ack socketio.AckFunc) {
	pageID, valid := idArg(args, "pageId")
	if !valid {
		fail(ack, "invalid_request", "leave_page takes a pageId")
		return
	}
	b.leave(c, modules.PageRoom(pageID))
	ok(ack, map[string]any{"pageId": pageID})
}

func (b *Broker) joinDrive(c *client, args socketio.Args, ack socketio.AckFunc) {
	driveID, valid := idArg(args, "driveId")
	if !valid {
		fail(ack, "invalid_request", "join_drive takes a driveId")
		return
	}
	ctx, cancel := b.within(stepTimeout)
	defer cancel()
	v, joined := b.joinView(ctx, c, modules.DriveRoom(driveID), driveID, "drive not found", ack)
	if !joined {
		return
	}
	if v.Role == permissions.NoRole {
		ok(ack, map[string]any{"driveId": driveID}) // a grantee: no member list
		return
	}
	members, err := b.roster.snapshot(ctx, v)
	if err != nil {
		b.failErr(ack, err)
		return
	}
	ok(ack, map[string]any{"driveId": driveID, "members": members})
}

// activity is the client's activity ping: the user is not idle.
func (b *Broker) activity(c *client, args socketio.Args, ack socketio.AckFunc) {
	var empty struct{}
	if args.Len() > 1 || args.Len() == 1 && !decodeArg(args, 0, &empty) {
		fail(ack, "invalid_request", "activity takes no argument or {}")
		return
	}
	b.roster.activity(c)
	ok(ack, nil)
}

func (b *Broker) leaveDrive(c *client, args socketio.Args, ack socketio.AckFunc) {
	driveID, valid := idArg(args, "driveId")
	if !valid {
		fail(ack, "invalid_request", "leave_drive takes a driveId")
		return
	}
	b.leave(c, modules.DriveRoom(driveID))
	ok(ack, map[string]any{"driveId": driveID})
}

func (b *Broker) leave(c *client, room modules.Room) {
	name := room.String()
	b.mu.Lock()
	c.mu.Lock()
	drive, in := c.rooms[name]
	c.mu.Unlock()
	if in {
		b.untrack(c, name, drive)
	}
	b.mu.Unlock()
	if in {
		b.saveSession(c)
		if room.Kind == modules.RoomPage {
			b.presence.leave(c, room.ID)
			b.clearSelection(c, room.ID)
		}
	}
}

func (b *Broker) refreshAuth(c *client, args socketio.Args, ack socketio.AckFunc) {
	var in struct {
		Token string `json:"token"`
	}
	if args.Len() < 1 || !decodeArg(args, 0, &in) || in.Token == "" {
		fail(ack, "invalid_request", "refresh_auth takes {token}")
		return
	}
	id, exp, err := b.verify.Verify(in.Token)
	if err != nil {
		b.failErr(ack, err)
		return
	}
	if id.UserID != c.userID {
		fail(ack, "forbidden", "the token belongs to another user")
		return
	}
	// A token of an ended session (logout, refresh-token reuse) is refused, as REST refuses it;
	// the socket keeps its current token until that expires.
	if err := b.verify.SessionActive(b.ctx, id); err != nil {
		b.failErr(ack, err)
		return
	}
	c.mu.Lock()
	c.expires, c.sessionID = exp, id.SessionID
	c.mu.Unlock()
	c.armExpiry(b)
	ok(ack, map[string]any{"expiresAt": modules.Time(exp)})
}

package realtime

import (
	"encoding/json"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// presence tracks who views each page (per user, across tabs), typing indicators and cursor
// coalescing. It has its own lock and never takes the broker's, so the broker may call it
// while holding b.mu.
type presence struct {
	b      *Broker
	mu     sync.Mutex
	pages  map[string]map[string]map[*client]struct{} // pageID → userID → sockets
	byConn map[*client][]string                       // socket → pages it views (a few: a slice, not a map per socket)
	typing map[typingKey]*typingState
	vstate map[string]*viewersState // per page: coalescing of viewers_updated
	drive  map[string]string        // pageID → its drive, for the pages in pages
}

// viewersState coalesces viewers_updated: the first change is sent at once, later changes
// within ViewersInterval are folded into one trailing update carrying the latest list, so a room
// filling up costs one broadcast per interval instead of one per join.
type viewersState struct {
	last  time.Time
	timer *time.Timer
}

type typingKey struct{ pageID, userID string }

type typingState struct {
	last  time.Time
	timer *time.Timer
	name  string
}

// Viewer is one user viewing a page.
type Viewer struct {
	UserID  string `json:"userId"`
	Name    string `json:"name"`
	IsAgent bool   `json:"isAgent,omitempty"`
}

func newPresence(b *Broker) *presence {
	return &presence{b: b, pages: map[string]map[string]map[*client]struct{}{}, byConn: map[*client][]string{}, typing: map[typingKey]*typingState{}, vstate: map[string]*viewersState{}, drive: map[string]string{}}
}

// viewersLocked lists a page's viewers, sorted by name then id. Caller holds p.mu.
func (p *presence) viewersLocked(pageID string) []Viewer {
	out := []Viewer{}
	for userID, conns := range p.pages[pageID] {
		for c := range conns {
			out = append(out, Viewer{UserID: userID, Name: c.name, IsAgent: c.agent})
			break
		}
	}
	for _, v := range p.b.roster.remoteViewers(pageID) {
		if p.pages[pageID][v.UserID] == nil { // a user with tabs on two processes is one viewer
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].UserID < out[j].UserID
	})
	return out
}

func (p *presence) broadcastViewers(pageID string, viewers []Viewer) {
	_ = p.b.ns.To(modules.PageRoom(pageID).String()).Emit("viewers_updated", map[string]any{"pageId": pageID, "viewers": viewers})
}

// changedLocked records that a page's viewers changed. It returns the list to send now, or nil
// when a trailing update is (now) scheduled instead. Caller holds p.mu.
func (p *presence) changedLocked(pageID string) []Viewer {
	st := p.vstate[pageID]
	if st == nil {
		st = &viewersState{}
		p.vstate[pageID] = st
	}
	if st.timer != nil {
		return nil // the pending update will carry this change
	}
	now := time.Now()
	wait := p.b.cfg.ViewersInterval - now.Sub(st.last)
	if wait <= 0 {
		st.last = now
		viewers := p.viewersLocked(pageID)
		if len(viewers) == 0 {
			delete(p.vstate, pageID)
		}
		return viewers
	}
	st.timer = time.AfterFunc(wait, func() {
		p.mu.Lock()
		if p.vstate[pageID] != st {
			p.mu.Unlock()
			return
		}
		st.timer, st.last = nil, time.Now()
		viewers := p.viewersLocked(pageID)
		if len(viewers) == 0 {
			delete(p.vstate, pageID)
		}
		p.mu.Unlock()
		p.broadcastViewers(pageID, viewers)
	})
	return nil
}

// viewersChanged sends viewers_updated to this process's sockets in a page's room after the
// page's viewers on other processes changed.
func (p *presence) viewersChanged(pageID string) {
	p.mu.Lock()
	if len(p.pages[pageID]) == 0 {
		p.mu.Unlock()
		return // nobody here views it
	}
	now := p.changedLocked(pageID)
	p.mu.Unlock()
	if now != nil {
		p.broadcastViewers(pageID, now)
	}
}

// join counts c as a viewer of pageID, a page of driveID, and returns the viewers.
func (p *presence) join(c *client, pageID, driveID string) []Viewer {
	p.mu.Lock()
	users := p.pages[pageID]
	if users == nil {
		users = map[string]map[*client]struct{}{}
		p.pages[pageID] = users
		p.drive[pageID] = driveID
	}
	newUser := users[c.userID] == nil
	if newUser {
		users[c.userID] = map[*client]struct{}{}
	}
	users[c.userID][c] = struct{}{}
	if !slices.Contains(p.byConn[c], pageID) {
		p.byConn[c] = append(p.byConn[c], pageID)
	}
	viewers := p.viewersLocked(pageID)
	var now []Viewer
	if newUser {
		now = p.changedLocked(pageID)
		p.b.roster.viewingLocked(c.userID, c.name, pageID, driveID, true)
	}
	p.mu.Unlock()
	if now != nil {
		p.broadcastViewers(pageID, now)
	}
	if newUser {
		p.b.shareUser(c.userID)
	}
	return viewers
}

// leave stops counting c on pageID; the user leaves the viewers when its last socket does.
func (p *presence) leave(c *client, pageID string) {
	p.mu.Lock()
	gone, viewers := p.leaveLocked(c, pageID)
	p.mu.Unlock()
	if gone && viewers != nil {
		p.broadcastViewers(pageID, viewers)
	}
	if gone {
		p.b.shareUser(c.userID)
		p.b.statuses.left(pageID, c.userID)
	}
}

// leaveLocked stops counting c on pageID. It returns whether c's user left the page and the
// viewers to send now (nil for none or later). Caller holds p.mu.
func (p *presence) leaveLocked(c *client, pageID string) (userGone bool, viewers []Viewer) {
	if pages := slices.DeleteFunc(p.byConn[c], func(id string) bool { return id == pageID }); len(pages) > 0 {
		p.byConn[c] = pages
	} else {
		delete(p.byConn, c)
	}
	users := p.pages[pageID]
	conns := users[c.userID]
	if conns == nil {
		return false, nil
	}
	delete(conns, c)
	if len(conns) > 0 {
		return false, nil
	}
	delete(users, c.userID)
	p.b.roster.viewingLocked(c.userID, c.name, pageID, p.drive[pageID], false)
	if len(users) == 0 {
		delete(p.pages, pageID)
		delete(p.drive, pageID)
	}
	key := typingKey{pageID, c.userID}
	if st := p.typing[key]; st != nil {
		st.timer.Stop()
		delete(p.typing, key)
		defer p.emitStopped(key, st.name)
	}
	return true, p.changedLocked(pageID)
}

// dropClient forgets a disconnected socket everywhere.
func (p *presence) dropClient(c *client) {
	p.mu.Lock()
	var changed, left []string
	var lists [][]Viewer
	for _, pageID := range slices.Clone(p.byConn[c]) { // leaveLocked edits the list
		gone, viewers := p.leaveLocked(c, pageID)
		if gone {
			left = append(left, pageID)
		}
		if gone && viewers != nil {
			changed = append(changed, pageID)
			lists = append(lists, viewers)
		}
	}
	delete(p.byConn, c)
	p.mu.Unlock()
	for i, pageID := range changed {
		p.broadcastViewers(pageID, lists[i])
	}
	p.b.shareUser(c.userID)
	for _, pageID := range left {
		p.b.statuses.left(pageID, c.userID)
	}
	c.mu.Lock()
	if c.cursor != nil && c.cursor.timer != nil {
		c.cursor.timer.Stop()
	}
	c.mu.Unlock()
}

func (p *presence) stopAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, st := range p.typing {
		st.timer.Stop()
		delete(p.typing, k)
	}
	for k, st := range p.vstate {
		if st.timer != nil {
			st.timer.Stop()
		}
		delete(p.vstate, k)
	}
}

func (p *presence) emitStopped(key typingKey, name string) {
	p.b.relay(nil, modules.PageRoom(key.pageID).String(), "user_stopped_typing", map[string]any{"pageId": key.pageID, "userId": key.userID, "name": name})
}

// viewing reports whether c counts among pageID's viewers.
func (p *presence) viewing(c *client, pageID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Contains(p.byConn[c], pageID)
}

// userViewing reports whether a socket of userID on this process views pageID.
func (p *presence) userViewing(pageID, userID string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pages[pageID][userID]) > 0
}

// inPage reports whether c has joined the page's room.
func inPage(c *client, pageID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.rooms[modules.PageRoom(pageID).String()]
	return ok
}

func (p *presence) typingStart(c *client, args socketio.Args, ack socketio.AckFunc) {
	pageID, valid := idArg(args, "pageId")
	if !valid {
		fail(ack, "invalid_request", "typing_start takes {pageId}")
		return
	}
	if !inPage(c, pageID) {
		fail(ack, "not_found", "join the page first")
		return
	}
	key := typingKey{pageID, c.userID}
	now := time.Now()
	p.mu.Lock()
	st := p.typing[key]
	announce := false
	if st == nil {
		st = &typingState{name: c.name, last: now}
		p.typing[key] = st
		announce = true
	} else {
		st.timer.Stop()
		if now.Sub(st.last) >= p.b.cfg.TypingThrottle {
			st.last, announce = now, true
		}
	}
	st.timer = time.AfterFunc(p.b.cfg.TypingTimeout, func() {
		p.mu.Lock()
		if p.typing[key] != st {
			p.mu.Unlock()
			return
		}
		delete(p.typing, key)
		p.mu.Unlock()
		p.emitStopped(key, st.name)
	})
	p.mu.Unlock()
	if announce {
		p.b.relay(c.s, modules.PageRoom(pageID).String(), "user_typing", map[string]any{"pageId": pageID, "userId": c.userID, "name": c.name})
	}
	ok(ack, nil)
}

func (p *presence) typingStop(c *client, args socketio.Args, ack socketio.AckFunc) {
	pageID, valid := idArg(args, "pageId")
	if !valid {
		fail(ack, "invalid_request", "typing_stop takes {pageId}")
		return
	}
	key := typingKey{pageID, c.userID}
	p.mu.Lock()
	st := p.typing[key]
	if st != nil {
		st.timer.Stop()
		delete(p.typing, key)
	}
	p.mu.Unlock()
	if st != nil {
		p.emitStopped(key, st.name)
	}
	ok(ack, nil)
}

// cursorState coalesces one socket's cursor moves: the latest wins, at most one per interval.
type cursorState struct {
	pageID  string
	payload map[string]any
	last    time.Time
	timer   *time.Timer
}

const maxCursorBytes = 4096

func (p *presence) cursorMove(c *client, args socketio.Args, ack socketio.AckFunc) {
	var in struct {
		PageID    string          `json:"pageId"`
		Position  json.RawMessage `json:"position"`
		Selection json.RawMessage `json:"selection"`
	}
	if args.Len() < 1 || !decodeArg(args, 0, &in) || !modules.ValidID(in.PageID) || len(in.Position) == 0 {
		fail(ack, "invalid_request", "cursor_move takes {pageId, position, selection?}")
		return
	}
	if len(in.Position)+len(in.Selection) > maxCursorBytes {
		fail(ack, "payload_too_large", "cursor position and selection are limited to 4 KB")
		return
	}
	if !inPage(c, in.PageID) {
		fail(ack, "not_found", "join the page first")
		return
	}
	sel := in.Selection
	if len(sel) == 0 {
		sel = json.RawMessage("null")
	}
	payload := map[string]any{"pageId": in.PageID, "userId": c.userID, "name": c.name, "position": in.Position, "selection": sel}
	interval := p.b.cfg.CursorInterval
	c.mu.Lock()
	cs := c.cursor
	if cs == nil {
		cs = &cursorState{}
		c.cursor = cs
	}
	cs.pageID, cs.payload = in.PageID, payload
	now := time.Now()
	sendNow := cs.timer == nil && now.Sub(cs.last) >= interval
	if sendNow {
		cs.last = now
	} else if cs.timer == nil {
		cs.timer = time.AfterFunc(interval-now.Sub(cs.last), func() { p.flushCursor(c) })
	}
	c.mu.Unlock()
	if sendNow {
		p.b.relay(c.s, modules.PageRoom(in.PageID).String(), "cursor_moved", payload)
	}
	ok(ack, nil)
}

func (p *presence) flushCursor(c *client) {
	c.mu.Lock()
	cs := c.cursor
	cs.timer = nil
	cs.last = time.Now()
	pageID, payload := cs.pageID, cs.payload
	_, still := c.rooms[modules.PageRoom(pageID).String()]
	c.mu.Unlock()
	if still && c.s.Connected() {
		p.b.relay(c.s, modules.PageRoom(pageID).String(), "cursor_moved", payload)
	}
}

package realtime

import (
	"context"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// Agent states, the state of an AgentStatus.
const (
	AgentIdle        = "idle"
	AgentThinking    = "thinking"
	AgentRunningTool = "running_tool"
	AgentError       = "error"
)

// Limits of an agent status.
const (
	maxToolChars   = 64
	maxDetailChars = 280
	maxStatusTTL   = 600 * time.Second
	// restStatusPerMinute bounds the statuses one agent sets over REST (a socket's count against
	// its event rate instead).
	restStatusPerMinute = 600
)

// AgentStatus is what an agent shows it is doing in a page: the agent_status event, an entry of
// the join_page ack's agentStatuses, and the answer of PUT /api/pages/{pageId}/agent-status.
type AgentStatus struct {
	PageID    string       `json:"pageId"`
	AgentID   string       `json:"agentId"`
	Name      string       `json:"name"`
	State     string       `json:"state"`
	Tool      string       `json:"tool,omitempty"`
	Progress  *float64     `json:"progress,omitempty"`
	Detail    string       `json:"detail,omitempty"`
	UpdatedAt modules.Time `json:"updatedAt"`
}

// statusIn is the body of PUT .../agent-status (pageId in the path, ttlSeconds optional) and the
// argument of agent_status (pageId required, no ttlSeconds): one shape, so both are checked alike.
type statusIn struct {
	PageID     string   `json:"pageId"`
	State      string   `json:"state"`
	Tool       string   `json:"tool"`
	Progress   *float64 `json:"progress"`
	Detail     string   `json:"detail"`
	TTLSeconds *int     `json:"ttlSeconds"`
}

// validate checks the status fields (not pageId or ttlSeconds, which depend on the transport).
func (in statusIn) validate() error {
	switch in.State {
	case AgentIdle, AgentThinking, AgentRunningTool, AgentError:
	default:
		return fieldError("state", "must be idle, thinking, running_tool or error")
	}
	if in.State == AgentRunningTool && strings.TrimSpace(in.Tool) == "" {
		return fieldError("tool", "is required with running_tool")
	}
	if in.State != AgentRunningTool && (in.Tool != "" || in.Progress != nil) {
		field := "tool"
		if in.Tool == "" {
			field = "progress"
		}
		return fieldError(field, "is only for running_tool")
	}
	if !shortText(in.Tool, maxToolChars) {
		return fieldError("tool", "must be at most 64 characters, without control characters")
	}
	if in.Progress != nil && (*in.Progress < 0 || *in.Progress > 1) {
		return fieldError("progress", "must be a number from 0 to 1")
	}
	if !shortText(in.Detail, maxDetailChars) {
		return fieldError("detail", "must be at most 280 characters, without control characters")
	}
	return nil
}

// status is the AgentStatus in the input, by agentID named name, made at.
func (in statusIn) status(pageID, agentID, name string, at time.Time) AgentStatus {
	return AgentStatus{PageID: pageID, AgentID: agentID, Name: name, State: in.State, Tool: in.Tool,
		Progress: in.Progress, Detail: in.Detail, UpdatedAt: modules.Time(at.UTC().Truncate(time.Millisecond))}
}

func fieldError(field, problem string) error {
	return modules.Invalid(field+" "+problem, map[string]any{"fields": map[string]string{field: problem}})
}

// shortText reports whether s has at most limit characters and no control character.
func shortText(s string, limit int) bool {
	if utf8.RuneCountInString(s) > limit {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Errors of the agent status routes and event.
var (
	errNotAgent       = modules.E(modules.KindForbidden, "only an agent publishes an agent status (sign in with its API key)")
	errStatusPage     = modules.E(modules.KindNotFound, "page not found")
	errStatusNotJoin  = modules.E(modules.KindNotFound, "join the page first")
	errStatusTTL      = modules.Invalid("ttlSeconds must be a whole number from 1 to 600", map[string]any{"fields": map[string]string{"ttlSeconds": "must be from 1 to 600"}})
	errStatusPageBody = modules.Invalid("pageId is given in the path", map[string]any{"fields": map[string]string{"pageId": "is given in the path"}})
)

// statusEntry is one agent's status in one page, or (with a bus) a clear kept for a while so
// that a set made earlier on another process, arriving late, does not bring the status back.
type statusEntry struct {
	st      AgentStatus
	driveID string
	at      int64  // UnixNano of the change where it was made: across processes the later wins
	proc    string // the process that made the change (the broker's procID)
	socket  bool   // set over a socket: it ends when the agent's last socket here leaves the page
	keyID   string // the API key it was set with
	timer   *time.Timer
	gen     uint64 // the sharing round of proc that last confirmed it
	cleared bool
}

// after reports whether the change (at, proc) comes after e's.
func (e *statusEntry) after(at int64, proc string) bool {
	return at > e.at || at == e.at && proc > e.proc
}

func (e *statusEntry) stopTimer() {
	if e.timer != nil {
		e.timer.Stop()
	}
}

// statuses holds the agent statuses of every page, those set on this process (which it ends:
// socket gone, TTL, access lost) and, with a bus, those set on others (which their process ends,
// or this one when that process's lease runs out). Changes are emitted to the page room under
// its lock, so a snapshot taken under it (the join_page ack) is never older than an event the
// same socket already got. It takes the presence lock inside its own, never the other way round,
// and never the broker's.
type statuses struct {
	b      *Broker
	mu     sync.Mutex
	pages  map[string]map[string]*statusEntry // pageID → agentID → entry
	stale  map[string]struct{}                // drives whose access changed: re-check their statuses
	rounds map[string]uint64                  // process → its current sharing round
}

func newStatuses(b *Broker) *statuses {
	return &statuses{b: b, pages: map[string]map[string]*statusEntry{}, stale: map[string]struct{}{}, rounds: map[string]uint64{}}
}

// statusChange is how a set came: over a socket or over REST (with its expiry).
type statusChange struct {
	driveID string
	keyID   string
	socket  *client       // set over this socket, which must still view the page
	ttl     time.Duration // REST: the status expires after
}

// set publishes in as the status of agentID (named name) in pageID, made here now, and returns
// it with the time that orders it. Over a socket it fails with errStatusNotJoin when the socket
// no longer views the page.
func (t *statuses) set(in statusIn, pageID, agentID, name string, how statusChange) (AgentStatus, int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if how.socket != nil && !t.b.presence.viewing(how.socket, pageID) {
		return AgentStatus{}, 0, errStatusNotJoin
	}
	now := time.Now()
	at := now.UnixNano()
	cur := t.pages[pageID][agentID]
	if cur != nil {
		cur.stopTimer()
		at = max(at, cur.at+1)
	}
	e := &statusEntry{st: in.status(pageID, agentID, name, now), driveID: how.driveID, at: at, proc: t.b.procID(),
		socket: how.socket != nil, keyID: how.keyID}
	if how.ttl > 0 {
		e.timer = time.AfterFunc(how.ttl, func() { t.expire(pageID, agentID, at) })
	}
	t.putLocked(e)
	t.emitLocked(e)
	t.shareLocked(e)
	return e.st, at, nil
}

// putLocked stores e under its page and agent. Caller holds t.mu.
func (t *statuses) putLocked(e *statusEntry) {
	agents := t.pages[e.st.PageID]
	if agents == nil {
		agents = map[string]*statusEntry{}
		t.pages[e.st.PageID] = agents
	}
	agents[e.st.AgentID] = e
}

// removeLocked forgets the entry of pageID and agentID. Caller holds t.mu.
func (t *statuses) removeLocked(pageID, agentID string) {
	delete(t.pages[pageID], agentID)
	if len(t.pages[pageID]) == 0 {
		delete(t.pages, pageID)
	}
}

// emitLocked sends e to this process's sockets in its page's room: agent_status, or
// agent_status_cleared for a clear. Caller holds t.mu.
func (t *statuses) emitLocked(e *statusEntry) {
	room := t.b.ns.To(modules.PageRoom(e.st.PageID).String())
	if e.cleared {
		_ = room.Emit("agent_status_cleared", map[string]string{"pageId": e.st.PageID, "agentId": e.st.AgentID})
		return
	}
	_ = room.Emit("agent_status", e.st)
}

// clear ends the status of agentID in pageID whatever process set it (DELETE .../agent-status).
func (t *statuses) clear(pageID, agentID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.pages[pageID][agentID]
	at := time.Now().UnixNano()
	if cur != nil {
		at = max(at, cur.at+1)
	}
	t.clearLocked(pageID, agentID, at)
}

// clearLocked replaces the entry of pageID and agentID with a clear made here at at, tells the
// room when there was a status and the other processes in any case. Caller holds t.mu.
func (t *statuses) clearLocked(pageID, agentID string, at int64) {
	cur := t.pages[pageID][agentID]
	gone := &statusEntry{st: AgentStatus{PageID: pageID, AgentID: agentID}, at: at, proc: t.b.procID(), cleared: true}
	t.replaceLocked(cur, gone)
	t.shareLocked(gone)
}

// replaceLocked puts gone (a clear) in place of cur and tells the room when cur was a status.
// Without a bus a clear is not kept: nothing can arrive late. Caller holds t.mu.
func (t *statuses) replaceLocked(cur, gone *statusEntry) {
	if cur != nil {
		cur.stopTimer()
	}
	if t.b.cluster != nil {
		t.putLocked(gone)
	} else {
		t.removeLocked(gone.st.PageID, gone.st.AgentID)
	}
	if cur != nil && !cur.cleared {
		t.emitLocked(gone)
	}
}

// endLocked clears the status of pageID and agentID that this process made at at, unless a
// later change replaced it. Caller holds t.mu.
func (t *statuses) endLocked(pageID, agentID string, at int64) {
	cur := t.pages[pageID][agentID]
	if cur != nil && !cur.cleared && cur.at == at && cur.proc == t.b.procID() {
		t.clearLocked(pageID, agentID, at+1)
	}
}

// expire ends a REST status whose TTL passed.
func (t *statuses) expire(pageID, agentID string, at int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.endLocked(pageID, agentID, at)
}

// left ends the status of userID in pageID that a socket of this process set, once the user
// has no socket in the page here (it left, was removed or disconnected).
func (t *statuses) left(pageID, userID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.pages[pageID][userID]
	if e != nil && e.socket && !t.b.presence.userViewing(pageID, userID) {
		t.endLocked(pageID, userID, e.at)
	}
}

// ownedLocked lists the statuses this process set that match keep. Caller holds t.mu.
func (t *statuses) ownedLocked(keep func(*statusEntry) bool) []*statusEntry {
	var out []*statusEntry
	self := t.b.procID()
	for _, agents := range t.pages {
		for _, e := range agents {
			if !e.cleared && e.proc == self && keep(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

// keyEnded ends the statuses set here with an API key that was revoked.
func (t *statuses) keyEnded(agentID, keyID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.ownedLocked(func(e *statusEntry) bool { return e.st.AgentID == agentID && e.keyID == keyID }) {
		t.endLocked(e.st.PageID, agentID, e.at)
	}
}

// agentGone ends the statuses set here by a user who was deleted (an agent removed).
func (t *statuses) agentGone(agentID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, e := range t.ownedLocked(func(e *statusEntry) bool { return e.st.AgentID == agentID }) {
		t.endLocked(e.st.PageID, agentID, e.at)
	}
}

// driveChanged records that access in driveID changed; recheck then re-checks the statuses
// this process set there. The broker may hold its lock.
func (t *statuses) driveChanged(driveID string) {
	t.mu.Lock()
	t.stale[driveID] = struct{}{}
	t.mu.Unlock()
}

// recheck ends the statuses this process set in the drives whose access changed whose agent may
// no longer view the page (a member removed, a page made private, trashed or deleted). It reads
// access from the database, so it runs outside the broker's lock.
func (t *statuses) recheck() {
	t.mu.Lock()
	if len(t.stale) == 0 {
		t.mu.Unlock()
		return
	}
	stale := t.stale
	t.stale = map[string]struct{}{}
	check := t.ownedLocked(func(e *statusEntry) bool {
		_, changed := stale[e.driveID]
		return changed
	})
	t.mu.Unlock()
	ctx, cancel := t.b.within(stepTimeout)
	defer cancel()
	for _, e := range check {
		t.verify(ctx, e.st.PageID, e.st.AgentID, e.at)
	}
}

// verify ends the status of agentID in pageID made here at at unless the agent may still view
// the page, and reports whether the agent lost it. A failed check leaves the status.
func (t *statuses) verify(ctx context.Context, pageID, agentID string, at int64) bool {
	pa, err := t.b.access.Page(ctx, agentID, pageID)
	if err != nil && !isNotFound(err) {
		t.b.log.Error("realtime: agent status: access", "err", err.Error(), "page", pageID)
		return false
	}
	if err == nil && pa.View && !pa.Trashed {
		return false
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.endLocked(pageID, agentID, at)
	return true
}

// listLocked is the statuses of pageID, by agent name then id. Caller holds t.mu.
func (t *statuses) listLocked(pageID string) []AgentStatus {
	out := []AgentStatus{}
	for _, e := range t.pages[pageID] {
		if !e.cleared {
			out = append(out, e.st)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return out[i].AgentID < out[j].AgentID
	})
	return out
}

// answer calls reply with the statuses of pageID under the lock that orders their events, so
// that what reply sends is not older than an agent_status the socket received before it.
func (t *statuses) answer(pageID string, reply func([]AgentStatus)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	reply(t.listLocked(pageID))
}

// resend emits the statuses of pageID to one socket (a recovered session's page).
func (t *statuses) resend(s *socketio.Socket, pageID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, st := range t.listLocked(pageID) {
		_ = s.Emit("agent_status", st)
	}
}

// stopAll stops the expiry timers (the broker is stopping).
func (t *statuses) stopAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, agents := range t.pages {
		for _, e := range agents {
			e.stopTimer()
		}
	}
}

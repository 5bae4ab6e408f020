package realtime_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
	"github.com/pagespace/pagespace/realtime"
)

// statusOf decodes an agent_status event.
func statusOf(t *testing.T, ev sioclient.Event) realtime.AgentStatus {
	t.Helper()
	var st realtime.AgentStatus
	if err := ev.Decode(0, &st); err != nil {
		t.Fatalf("agent_status: %v", err)
	}
	return st
}

// awaitStatus waits for the next agent_status the socket receives and checks who and what it is.
func (s *sock) awaitStatus(pageID, agentID, state string) realtime.AgentStatus {
	s.r.t.Helper()
	st := statusOf(s.r.t, s.await("agent_status"))
	if st.PageID != pageID || st.AgentID != agentID || st.State != state {
		s.r.t.Fatalf("agent_status %+v, want %s in %s by %s", st, state, pageID, agentID)
	}
	return st
}

// awaitCleared waits for the next agent_status_cleared and checks it is agentID's in pageID.
func (s *sock) awaitCleared(pageID, agentID string) {
	s.r.t.Helper()
	p := payload(s.await("agent_status_cleared"))
	if p["pageId"] != pageID || p["agentId"] != agentID {
		s.r.t.Fatalf("agent_status_cleared %v, want %s in %s", p, agentID, pageID)
	}
}

// agentStatusesOf reads a join_page ack's agentStatuses.
func agentStatusesOf(t *testing.T, ack map[string]any) []map[string]any {
	t.Helper()
	list, ok := ack["agentStatuses"].([]any)
	if !ok {
		t.Fatalf("join_page ack without agentStatuses: %v", ack)
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i] = v.(map[string]any)
	}
	return out
}

// errorCode is the code of a refused ack ("" for an ok one).
func errorCode(ack map[string]any) string {
	e, _ := ack["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// An agent's status and tool progress reach the page's viewers, a socket that joins later finds
// it in the join_page ack, and it is cleared when the agent's last socket in the page goes.
func TestAgentStatusShownAndClearedOnDisconnect(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	r, ch, agent := w.r, w.page, w.agent
	member := r.Signup("Mia")
	r.AddMember(w.owner, w.drive, member, "VIEWER")
	o := r.dial(w.owner)
	if got := agentStatusesOf(t, o.join(ch)); len(got) != 0 {
		t.Fatalf("statuses before any: %v", got)
	}
	a1, a2 := r.dial(agent), r.dial(agent) // two sockets of the agent in the page
	a1.join(ch)
	a2.join(ch)

	if ack := a1.call("agent_status", map[string]any{"pageId": ch, "state": "thinking"}); ack["ok"] != true || len(ack) != 1 {
		t.Fatalf("agent_status ack %v", ack)
	}
	if st := o.awaitStatus(ch, agent.ID, "thinking"); st.Name != "Helper" || st.Tool != "" || st.Progress != nil {
		t.Fatalf("thinking: %+v", st)
	}
	a1.call("agent_status", map[string]any{"pageId": ch, "state": "running_tool", "tool": "web_search", "progress": 0.25, "detail": "3 of 12 pages"})
	st := o.awaitStatus(ch, agent.ID, "running_tool")
	if st.Tool != "web_search" || st.Progress == nil || *st.Progress != 0.25 || st.Detail != "3 of 12 pages" || time.Since(time.Time(st.UpdatedAt)) > time.Hour {
		t.Fatalf("running_tool: %+v", st)
	}

	got := agentStatusesOf(t, r.dial(member).join(ch))
	if len(got) != 1 || got[0]["agentId"] != agent.ID || got[0]["state"] != "running_tool" || got[0]["tool"] != "web_search" || got[0]["progress"] != 0.25 {
		t.Fatalf("a joiner's agentStatuses: %v", got)
	}

	// One socket of the agent leaves: the other is still in the page, so the status stays (the
	// leave is done when its ack arrives, and the viewer's events come in order).
	a1.call("leave_page", ch)
	a2.call("agent_status", map[string]any{"pageId": ch, "state": "idle"})
	if ev := o.nextAgentEvent(); ev.Name != "agent_status" || statusOf(t, ev).State != "idle" {
		t.Fatalf("after one of two sockets left: %s %v", ev.Name, payload(ev))
	}
	a2.Close() // the last one: a lost connection ends the status
	o.awaitCleared(ch, agent.ID)
	if got := agentStatusesOf(t, r.dial(member).join(ch)); len(got) != 0 {
		t.Fatalf("statuses after the agent left: %v", got)
	}
	a3 := r.dial(agent)
	a3.join(ch)
	a3.call("agent_status", map[string]any{"pageId": ch, "state": "thinking"})
	o.awaitStatus(ch, agent.ID, "thinking")
	a3.call("leave_page", ch) // and so does leaving the page
	o.awaitCleared(ch, agent.ID)
}

// nextAgentEvent returns the next agent_status or agent_status_cleared the socket receives.
func (s *sock) nextAgentEvent() sioclient.Event {
	s.r.t.Helper()
	for {
		ev, err := s.Next(ctxT(s.r.t))
		if err != nil {
			s.r.t.Fatalf("waiting for an agent event: %v", err)
		}
		if strings.HasPrefix(ev.Name, "agent_status") {
			return ev
		}
	}
}

// Only an agent publishes a status, only its own, and only where it may be: a person is refused
// (forbidden), a page not joined or of another drive is not found, on the socket and over REST.
func TestAgentStatusRefused(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	r, ch, agent := w.r, w.page, w.agent
	other := r.Signup("Oscar")
	foreign := r.CreateDrive(other, "elsewhere")
	fch := r.CreatePage(other, foreign, "CHANNEL", "theirs", "")
	body := map[string]any{"state": "thinking"}

	o := r.dial(w.owner)
	o.join(ch)
	if ack := o.call("agent_status", map[string]any{"pageId": ch, "state": "thinking"}); errorCode(ack) != "forbidden" {
		t.Fatalf("a person's agent_status: %v", ack)
	}
	if code := r.Do("PUT", "/api/pages/"+ch+"/agent-status", w.owner.Token, body).Expect(403).ErrorCode(); code != "forbidden" {
		t.Fatalf("a person's PUT: %s", code)
	}
	r.Do("DELETE", "/api/pages/"+ch+"/agent-status", w.owner.Token, nil).Expect(403)

	a := r.dial(agent)
	if ack := a.call("agent_status", map[string]any{"pageId": ch, "state": "thinking"}); errorCode(ack) != "not_found" {
		t.Fatalf("agent_status before join_page: %v", ack)
	}
	for _, page := range []string{fch, "no-such-page"} {
		if ack := a.call("agent_status", map[string]any{"pageId": page, "state": "thinking"}); errorCode(ack) != "not_found" {
			t.Fatalf("agent_status in %s: %v", page, ack)
		}
		r.Do("PUT", "/api/pages/"+page+"/agent-status", agent.Token, body).Expect(404)
		r.Do("DELETE", "/api/pages/"+page+"/agent-status", agent.Token, nil).Expect(404)
	}
	r.Do("PUT", "/api/pages/"+ch+"/agent-status", "", body).Expect(401)

	// None of it reached the page.
	a.join(ch)
	a.call("agent_status", map[string]any{"pageId": ch, "state": "error", "detail": "the model is down"})
	if st := o.awaitStatus(ch, agent.ID, "error"); st.Detail != "the model is down" {
		t.Fatalf("error status: %+v", st)
	}
}

// Bad arguments and bodies are refused with invalid_request (400 over REST) naming the problem,
// and a socket that sends too many is rate limited.
func TestAgentStatusBadInput(t *testing.T) {
	w := newAgentWorld(t, "DOCUMENT")
	r, doc, agent := w.r, w.page, w.agent
	long := strings.Repeat("é", 281)
	bad := []map[string]any{
		{},
		{"state": "sleeping"},
		{"state": "THINKING"},
		{"state": "running_tool"},
		{"state": "running_tool", "tool": "   "},
		{"state": "thinking", "tool": "search"},
		{"state": "idle", "progress": 0.5},
		{"state": "running_tool", "tool": "search", "progress": 1.5},
		{"state": "running_tool", "tool": "search", "progress": -0.1},
		{"state": "running_tool", "tool": "search", "progress": "half"},
		{"state": "running_tool", "tool": strings.Repeat("x", 65)},
		{"state": "running_tool", "tool": "a\nb"},
		{"state": "thinking", "detail": long},
		{"state": "thinking", "detail": "tab\there"},
		{"state": "thinking", "extra": true},
		{"state": 3},
	}
	a := r.dial(agent)
	a.join(doc)
	for _, in := range bad {
		if code := r.Do("PUT", "/api/pages/"+doc+"/agent-status", agent.Token, in).Expect(400).ErrorCode(); code != "invalid_request" {
			t.Fatalf("PUT %v: %s", in, code)
		}
		arg := map[string]any{"pageId": doc}
		for k, v := range in {
			arg[k] = v
		}
		if ack := a.call("agent_status", arg); errorCode(ack) != "invalid_request" {
			t.Fatalf("agent_status %v: %v", arg, ack)
		}
	}
	for _, in := range []map[string]any{
		{"state": "thinking", "ttlSeconds": 0},
		{"state": "thinking", "ttlSeconds": 601},
		{"state": "thinking", "ttlSeconds": 1.5},
		{"state": "thinking", "pageId": doc},
	} {
		r.Do("PUT", "/api/pages/"+doc+"/agent-status", agent.Token, in).Expect(400)
	}
	for _, arg := range []any{
		doc,
		map[string]any{"state": "thinking"},
		map[string]any{"pageId": "", "state": "thinking"},
		map[string]any{"pageId": doc, "state": "thinking", "ttlSeconds": 60},
	} {
		if ack := a.call("agent_status", arg); errorCode(ack) != "invalid_request" {
			t.Fatalf("agent_status %v: %v", arg, ack)
		}
	}
	if ack := a.call("agent_status", map[string]any{"pageId": doc, "state": "running_tool", "tool": "é" + strings.Repeat("x", 63), "progress": 1, "detail": strings.Repeat("é", 280)}); ack["ok"] != true {
		t.Fatalf("at the limits: %v", ack)
	}
	r.Do("PUT", "/api/pages/"+doc+"/agent-status", agent.Token, map[string]any{"state": "running_tool", "tool": "t", "progress": 0, "ttlSeconds": 600}).Expect(200)
}

// A socket's agent_status counts against its event rate.
func TestAgentStatusRateLimited(t *testing.T) {
	w := start(t, func(c *app.Config) { c.Realtime.EventRate, c.Realtime.EventBurst = 0.001, 3 }).agentWorld("DOCUMENT")
	doc := w.page
	a := w.r.dial(w.agent)
	a.join(doc) // one of the three
	for range 2 {
		if ack := a.call("agent_status", map[string]any{"pageId": doc, "state": "thinking"}); ack["ok"] != true {
			t.Fatalf("within the burst: %v", ack)
		}
	}
	if ack := a.call("agent_status", map[string]any{"pageId": doc, "state": "thinking"}); errorCode(ack) != "rate_limited" {
		t.Fatalf("past the burst: %v", ack)
	}
}

// Over REST a status lasts ttlSeconds (here the configured default, short) unless set again,
// and DELETE ends it at once.
func TestAgentStatusREST(t *testing.T) {
	w := start(t, func(c *app.Config) { c.Realtime.AgentStatusTTL = 300 * time.Millisecond }).agentWorld("CHANNEL")
	r, owner, ch, agent := w.r, w.owner, w.page, w.agent
	r.Do("PATCH", "/api/drives/"+w.drive+"/members/"+agent.ID, owner.Token, map[string]any{"role": "VIEWER"}).Expect(200) // view is enough
	o := r.dial(owner)
	o.join(ch)

	var put struct {
		Status    realtime.AgentStatus
		ExpiresAt time.Time
	}
	r.Do("PUT", "/api/pages/"+ch+"/agent-status", agent.Token, map[string]any{"state": "running_tool", "tool": "fetch", "progress": 0}).Expect(200).JSON(&put)
	if put.Status.AgentID != agent.ID || put.Status.Name != "Helper" || put.Status.PageID != ch || put.Status.Progress == nil || *put.Status.Progress != 0 {
		t.Fatalf("PUT answer %+v", put)
	}
	if ttl := put.ExpiresAt.Sub(time.Time(put.Status.UpdatedAt)); ttl < 250*time.Millisecond || ttl > 350*time.Millisecond {
		t.Fatalf("expiresAt %v after updatedAt, want the default 300ms", ttl)
	}
	if st := o.awaitStatus(ch, agent.ID, "running_tool"); st.Tool != "fetch" {
		t.Fatalf("%+v", st)
	}
	o.awaitCleared(ch, agent.ID) // the TTL passed

	r.Do("PUT", "/api/pages/"+ch+"/agent-status", agent.Token, map[string]any{"state": "thinking", "ttlSeconds": 600}).Expect(200).JSON(&put)
	if ttl := put.ExpiresAt.Sub(time.Time(put.Status.UpdatedAt)); ttl < 599*time.Second {
		t.Fatalf("expiresAt %v after updatedAt, want 600s", ttl)
	}
	o.awaitStatus(ch, agent.ID, "thinking")
	if got := agentStatusesOf(t, r.dial(owner).join(ch)); len(got) != 1 || got[0]["state"] != "thinking" {
		t.Fatalf("a joiner's agentStatuses: %v", got)
	}
	r.Do("DELETE", "/api/pages/"+ch+"/agent-status", agent.Token, nil).Expect(204)
	o.awaitCleared(ch, agent.ID)
	r.Do("DELETE", "/api/pages/"+ch+"/agent-status", agent.Token, nil).Expect(204) // none: still 204
	if got := agentStatusesOf(t, r.dial(owner).join(ch)); len(got) != 0 {
		t.Fatalf("after DELETE: %v", got)
	}
}

// A status ends when its agent loses the page: removed from the members, its key revoked
// (over REST as over a socket), removed for good, or the page trashed.
func TestAgentStatusClearedOnAccessLoss(t *testing.T) {
	r := start(t)
	owner := r.Signup("Olive")
	drive := r.CreateDrive(owner, "home")
	ch := r.CreatePage(owner, drive, "CHANNEL", "general", "")
	o := r.dial(owner)
	o.join(ch)
	set := func(a apptest.User) {
		t.Helper()
		r.Do("PUT", "/api/pages/"+ch+"/agent-status", a.Token, map[string]any{"state": "thinking", "ttlSeconds": 600}).Expect(200)
		o.awaitStatus(ch, a.ID, "thinking")
	}

	revoke := func(a apptest.User, keyID string) {
		r.Do("DELETE", "/api/drives/"+drive+"/agents/"+a.ID+"/keys/"+keyID, owner.Token, nil).Expect(204)
	}
	for _, c := range []struct {
		name   string
		socket bool // after REST, set over a socket too: the socket's status replaces it
		end    func(a apptest.User, keyID string)
	}{
		{"Removed", false, func(a apptest.User, _ string) {
			r.Do("DELETE", "/api/drives/"+drive+"/members/"+a.ID, owner.Token, nil).Expect(204)
		}},
		{"Revoked", true, revoke},
		{"RestKey", false, revoke},
		{"Gone", false, func(a apptest.User, _ string) {
			r.Do("DELETE", "/api/drives/"+drive+"/agents/"+a.ID, owner.Token, nil).Expect(204)
		}},
	} {
		agent, keyID := r.newAgent(owner, drive, c.name, "MEMBER")
		set(agent)
		if c.socket {
			s := r.dial(agent)
			s.join(ch)
			s.call("agent_status", map[string]any{"pageId": ch, "state": "error"})
			o.awaitStatus(ch, agent.ID, "error")
		}
		c.end(agent, keyID)
		o.awaitCleared(ch, agent.ID)
	}

	// Trashing the page ends the status (the viewers leave the page too: a viewer of the drive
	// would not learn of it, so the check is a later join after the restore).
	trashed, _ := r.newAgent(owner, drive, "Trashed", "MEMBER")
	set(trashed)
	r.Do("DELETE", "/api/pages/"+ch, owner.Token, nil).Expect(204)
	r.Do("POST", "/api/pages/"+ch+"/restore", owner.Token, nil).Expect(200)
	if got := agentStatusesOf(t, r.dial(owner).join(ch)); len(got) != 0 {
		t.Fatalf("statuses after the page was trashed: %v", got)
	}
}

// A socket that recovers its session gets the current statuses of its pages again: what
// changed while it was away is not replayed.
func TestAgentStatusAfterRecovery(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	r, ch, agent := w.r, w.page, w.agent
	o := r.dial(w.owner)
	o.join(ch)
	a := r.dial(agent)
	a.join(ch)
	a.call("agent_status", map[string]any{"pageId": ch, "state": "thinking"})
	o.awaitStatus(ch, agent.ID, "thinking")

	o.Close() // a lost connection
	r.waitConnections(1)
	a.call("agent_status", map[string]any{"pageId": ch, "state": "running_tool", "tool": "compile", "progress": 0.5})
	c, err := r.Dial(ctxT(t), map[string]any{"token": w.owner.Token, "pid": o.PID, "offset": o.Offset()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c.PID != o.PID {
		t.Fatal("not recovered")
	}
	back := &sock{Client: c, r: r, u: w.owner}
	if st := back.awaitStatus(ch, agent.ID, "running_tool"); st.Tool != "compile" {
		t.Fatalf("after recovery: %+v", st)
	}
}

package realtime_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/app/pagespacetest"
	"github.com/pagespace/pagespace/realtime/pgbus"
)

// Processes on one database share agent statuses: set on one (socket or REST), shown on the
// others, to joiners there too, and cleared everywhere by DELETE on any of them or by the agent
// leaving the process it set its status on.
func TestAgentStatusAcrossProcesses(t *testing.T) {
	cfg := leaseConfig(t, 5*time.Second)
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	b := &rt{Env: apptest.StartWith(t, cfg), t: t}
	for _, p := range []*rt{a, b} {
		p.waitMetric("pagespace_realtime_bus_leases 1\n")
	}
	w := a.agentWorld("CHANNEL")
	owner, ch, agent := w.owner, w.page, w.agent
	oA, oB := a.dial(owner), b.dial(owner)
	oA.join(ch)
	oB.join(ch)

	sA := a.dial(agent)
	sA.join(ch)
	sA.call("agent_status", map[string]any{"pageId": ch, "state": "running_tool", "tool": "search", "progress": 0.5})
	if st := oB.awaitStatus(ch, agent.ID, "running_tool"); st.Tool != "search" || st.Name != "Helper" || *st.Progress != 0.5 {
		t.Fatalf("on B: %+v", st)
	}
	if got := agentStatusesOf(t, b.dial(owner).join(ch)); len(got) != 1 || got[0]["tool"] != "search" {
		t.Fatalf("a joiner on B: %v", got)
	}

	// Over REST through B: it replaces the socket's status everywhere, and B now ends it.
	b.Do("PUT", "/api/pages/"+ch+"/agent-status", agent.Token, map[string]any{"state": "thinking", "ttlSeconds": 600}).Expect(200)
	oA.awaitStatus(ch, agent.ID, "running_tool")
	oA.awaitStatus(ch, agent.ID, "thinking")
	oB.awaitStatus(ch, agent.ID, "thinking")
	a.Do("DELETE", "/api/pages/"+ch+"/agent-status", agent.Token, nil).Expect(204)
	oB.awaitCleared(ch, agent.ID)
	oA.awaitCleared(ch, agent.ID)
	if got := agentStatusesOf(t, b.dial(owner).join(ch)); len(got) != 0 {
		t.Fatalf("on B after DELETE on A: %v", got)
	}

	sA.call("agent_status", map[string]any{"pageId": ch, "state": "error", "detail": "rate limited upstream"})
	oB.awaitStatus(ch, agent.ID, "error")
	sA.Close()
	oB.awaitCleared(ch, agent.ID)
}

// busSender sends raw messages on the ephemeral channel, as another process would.
func busSender(t *testing.T, databaseURL string) func(msg map[string]any) {
	t.Helper()
	db, err := sql.Open("pgx", databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return func(msg map[string]any) {
		t.Helper()
		msg["t"] = time.Now().UnixMilli()
		raw, _ := json.Marshal(msg)
		if err := (pgbus.Sender{DB: db}).Send(ctxT(t), string(raw)); err != nil {
			t.Fatal(err)
		}
	}
}

// busStatus is a status message from process proc (at orders it against other changes).
func busStatus(proc, pageID, agentID, name, state string, at int64) map[string]any {
	return map[string]any{"p": proc, "k": "status", "st": map[string]any{"pageId": pageID, "agentId": agentID, "name": name,
		"state": state, "updatedAt": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "at": at}}
}

// The statuses of a process that dies without a word go when its lease runs out; a sharing
// round drops those it no longer names (a clear that was lost); and a clear is not undone by a
// set made before it that arrives late. Other processes are played by raw bus messages, whose
// order each process keeps.
func TestAgentStatusBusRules(t *testing.T) {
	cfg := leaseConfig(t, 2*time.Second)
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	send := busSender(t, cfg.DatabaseURL)
	w := a.agentWorld("CHANNEL")
	owner, ch, agent := w.owner, w.page, w.agent
	o := a.dial(owner)
	o.join(ch)
	now := time.Now().UnixNano()

	// A sharing round of a live process that no longer names ghost-1 drops it, before the
	// status the process sends next (a lease running out would come later, after that one).
	send(map[string]any{"p": "quiet", "k": "hb"})
	send(busStatus("quiet", ch, "ghost-1", "Ghost", "thinking", now))
	o.awaitStatus(ch, "ghost-1", "thinking")
	send(map[string]any{"p": "quiet", "k": "sync"})
	send(busStatus("quiet", ch, "ghost-2", "Ghost 2", "idle", now))
	send(map[string]any{"p": "quiet", "k": "synced"})
	if ev := o.nextAgentEvent(); ev.Name != "agent_status" || statusOf(t, ev).AgentID != "ghost-2" {
		t.Fatalf("first after the round began: %s %v", ev.Name, payload(ev))
	}
	o.awaitCleared(ch, "ghost-1")
	if got := agentStatusesOf(t, a.dial(owner).join(ch)); len(got) != 1 || got[0]["agentId"] != "ghost-2" {
		t.Fatalf("after the round: %v", got)
	}

	// A clear here wins over a set made elsewhere before it, whenever that arrives.
	a.Do("PUT", "/api/pages/"+ch+"/agent-status", agent.Token, map[string]any{"state": "thinking"}).Expect(200)
	o.awaitStatus(ch, agent.ID, "thinking")
	a.Do("DELETE", "/api/pages/"+ch+"/agent-status", agent.Token, nil).Expect(204)
	o.awaitCleared(ch, agent.ID)
	send(busStatus("slow", ch, agent.ID, "Helper", "error", now)) // made before the DELETE
	send(busStatus("slow", ch, "ghost-3", "Ghost 3", "thinking", time.Now().UnixNano()))
	if ev := o.nextAgentEvent(); ev.Name != "agent_status" || statusOf(t, ev).AgentID != "ghost-3" {
		t.Fatalf("the late set came back: %s %v", ev.Name, payload(ev))
	}

	// Neither process sends a heartbeat again: their statuses go with their leases.
	left := map[string]bool{"ghost-2": true, "ghost-3": true}
	for len(left) > 0 {
		p := payload(o.await("agent_status_cleared"))
		delete(left, p["agentId"].(string))
	}
	if got := agentStatusesOf(t, a.dial(owner).join(ch)); len(got) != 0 {
		t.Fatalf("after the leases: %v", got)
	}
}

// SIGKILL the process an agent's socket set its status on: the others clear it when the
// process's lease runs out.
func TestAgentStatusKilledProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test builds and runs the server command, too slow for a short run")
	}
	cfg := leaseConfig(t, 2*time.Second)
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	base, proc := serverProcess(t, cfg.DatabaseURL, cfg.JWTSecret)
	k := &rt{Env: &apptest.Env{Server: &pagespacetest.Server{T: t, URL: base, Client: http.DefaultClient, Config: cfg}}, t: t}
	w := a.agentWorld("CHANNEL")
	owner, ch, agent := w.owner, w.page, w.agent
	o := a.dial(owner)
	o.join(ch)
	s := k.dial(agent)
	s.join(ch)
	s.call("agent_status", map[string]any{"pageId": ch, "state": "running_tool", "tool": "build"})
	o.awaitStatus(ch, agent.ID, "running_tool")
	if err := proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	o.awaitCleared(ch, agent.ID)
}

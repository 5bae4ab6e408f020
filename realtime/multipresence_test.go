package realtime_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/realtime"
	"github.com/pagespace/pagespace/realtime/pgbus"
)

// viewersOf reads a join_page ack's or viewers_updated's viewers as "name,name" (sorted).
func viewersOf(t *testing.T, v any) string {
	t.Helper()
	raw, _ := json.Marshal(v)
	var list []realtime.Viewer
	if err := json.Unmarshal(raw, &list); err != nil {
		t.Fatalf("viewers %s: %v", raw, err)
	}
	names := make([]string, len(list))
	for i, v := range list {
		names[i] = v.Name
	}
	sort.Strings(names)
	return strings.Join(names, ",")
}

// awaitViewers waits until the socket's page shows exactly want ("name,name", sorted).
func (s *sock) awaitViewers(pageID, want string) {
	s.r.t.Helper()
	for {
		p := payload(s.await("viewers_updated"))
		if p["pageId"] == pageID && viewersOf(s.r.t, p["viewers"]) == want {
			return
		}
	}
}

// leaseConfig is a configuration for several processes on one PostgreSQL database, with short
// leases and quick presence events; the test is skipped on SQLite.
func leaseConfig(t *testing.T, ttl time.Duration) app.Config {
	t.Helper()
	if apptest.Dialect() != "postgres" {
		t.Skip("requires PostgreSQL: processes share presence through LISTEN/NOTIFY (PAGESPACE_TEST_DB=postgres)")
	}
	cfg := apptest.Config(t)
	cfg.Realtime.PresenceInterval = 20 * time.Millisecond
	cfg.Realtime.LeaseInterval = 100 * time.Millisecond
	cfg.Realtime.LeaseTTL = ttl
	return cfg
}

// Three processes on one database, a user's sockets spread over them: page viewers (a user
// with tabs on two processes counted once), typing, cursors, selections and drive presence are
// the same whichever process a socket is on, and a private page is never named to a member
// who may not see it.
func TestEphemeralAcrossProcesses(t *testing.T) {
	cfg := leaseConfig(t, 5*time.Second) // no process dies here: a slow moment must not look like it
	cfg.Realtime.IdleAfter = 2 * time.Second
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	b := &rt{Env: apptest.StartWith(t, cfg), t: t}
	c := &rt{Env: apptest.StartWith(t, cfg), t: t}
	for _, p := range []*rt{a, b, c} {
		p.waitMetric("pagespace_realtime_bus_leases 2\n") // each holds the others' leases
	}
	owner, member, viewer := a.Signup("Owner"), a.Signup("Member"), a.Signup("Viewer")
	d := a.CreateDrive(owner, "D")
	a.AddMember(owner, d, member, "MEMBER")
	a.AddMember(owner, d, viewer, "MEMBER")
	doc := a.CreatePage(owner, d, "DOCUMENT", "Doc", "")
	secret := a.CreatePage(owner, d, "DOCUMENT", "Secret", "")
	a.Do("PATCH", "/api/pages/"+secret, owner.Token, map[string]any{"isPrivate": true}).Expect(200)
	a.Grant(owner, secret, member, true, false, false, false)

	vC := c.dial(viewer)
	vC.call("join_drive", d)
	mB := b.dial(member)
	mB.call("join_drive", d)
	oA := a.dial(owner)
	oA.call("join_drive", d)
	oA.call("doc_open", map[string]any{"pageId": doc})
	// The viewer on C sees the owner, on A, open the document.
	var toViewer []realtime.MemberPresence // every entry the viewer received
	toViewer = append(toViewer, vC.watchPresence(func(m realtime.MemberPresence) bool {
		return m.UserID == owner.ID && len(m.PageIDs) == 1 && m.PageIDs[0] == doc
	})...)
	mB.watchPresence(func(m realtime.MemberPresence) bool {
		return m.UserID == owner.ID && len(m.PageIDs) == 1 && m.PageIDs[0] == doc
	})
	if ack := mB.call("doc_open", map[string]any{"pageId": doc}); ack["ok"] != true {
		t.Fatalf("doc_open: %v", ack)
	}
	oA.awaitViewers(doc, "Member,Owner")
	// A second tab of the owner, on C: still one Owner.
	oC := c.dial(owner)
	if got := viewersOf(t, oC.join(doc)["viewers"]); got != "Member,Owner" {
		t.Fatalf("viewers seen from C: %q", got)
	}
	if got := viewersOf(t, vC.join(doc)["viewers"]); got != "Member,Owner,Viewer" {
		t.Fatalf("viewers seen from C: %q", got)
	}
	mB.awaitViewers(doc, "Member,Owner,Viewer")
	oA.awaitViewers(doc, "Member,Owner,Viewer")
	// Closing the owner's tab on C leaves the owner viewing (on A).
	oC.Close()
	c.waitConnections(1)
	vC.call("leave_page", doc)
	mB.awaitViewers(doc, "Member,Owner")

	// Typing, cursors and selections cross processes.
	mB.call("typing_start", map[string]any{"pageId": doc})
	if p := payload(oA.await("user_typing")); p["userId"] != member.ID || p["pageId"] != doc {
		t.Fatalf("user_typing on A: %v", p)
	}
	oA.call("cursor_move", map[string]any{"pageId": doc, "position": 3})
	if p := payload(mB.await("cursor_moved")); p["userId"] != owner.ID || p["position"] != float64(3) {
		t.Fatalf("cursor_moved on B: %v", p)
	}
	oA.call("doc_selection", map[string]any{"pageId": doc, "version": 0, "ranges": []any{map[string]any{"anchor": 0, "head": 0}}})
	if p := payload(mB.await("doc_selection")); p["userId"] != owner.ID {
		t.Fatalf("doc_selection on B: %v", p)
	}
	mB.call("typing_stop", map[string]any{"pageId": doc})
	if p := payload(oA.await("user_stopped_typing")); p["userId"] != member.ID {
		t.Fatalf("user_stopped_typing on A: %v", p)
	}

	// The owner opens the private page: the member (granted) on B sees it, the viewer on C never.
	oA.join(secret)
	mB.watchPresence(func(m realtime.MemberPresence) bool {
		return m.UserID == owner.ID && len(m.PageIDs) == 2
	})
	snap := membersOf(t, vC.call("join_drive", d))
	if o := snap[owner.ID]; o.Status == realtime.StatusOffline || len(o.PageIDs) != 1 || o.PageIDs[0] != doc {
		t.Fatalf("the viewer's snapshot of the owner: %+v", o)
	}

	// The member, on B only, goes idle, comes back, and leaves: the viewer on C follows.
	toViewer = append(toViewer, vC.watchPresence(is(member.ID, realtime.StatusIdle))...)
	mB.call("activity")
	toViewer = append(toViewer, vC.watchPresence(is(member.ID, realtime.StatusOnline))...)
	mB.Close()
	toViewer = append(toViewer, vC.watchPresence(is(member.ID, realtime.StatusOffline))...)
	for _, e := range toViewer {
		if strings.Contains(strings.Join(e.PageIDs, ","), secret) {
			t.Fatalf("the viewer was told the owner views the private page: %+v", e)
		}
		if e.UserID == member.ID && e.Status == realtime.StatusOffline && e.LastSeenAt == nil {
			t.Fatalf("offline without lastSeenAt: %+v", e)
		}
	}
	oA.watchPresence(is(member.ID, realtime.StatusOffline))
	if m := membersOf(t, oA.call("join_drive", d))[member.ID]; m.Status != realtime.StatusOffline || m.LastSeenAt == nil {
		t.Fatalf("the member seen from A after leaving B: %+v", m)
	}
}

// A process that dies without a word (here: a process that announced a user on the bus and
// then fell silent) has its users removed from presence by the others once its lease runs out.
func TestDeadProcessLeaseExpires(t *testing.T) {
	cfg := leaseConfig(t, 700*time.Millisecond)
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	b := &rt{Env: apptest.StartWith(t, cfg), t: t}
	owner, ghost := a.Signup("Owner"), a.Signup("Ghost")
	d := a.CreateDrive(owner, "D")
	a.AddMember(owner, d, ghost, "MEMBER")
	doc := a.CreatePage(owner, d, "DOCUMENT", "Doc", "")
	oA := a.dial(owner)
	oA.call("join_drive", d)
	oA.join(doc)
	oB := b.dial(owner)
	oB.call("join_drive", d)

	db, err := sql.Open("pgx", cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The dead process's last word: the ghost views the document on it.
	msg := fmt.Sprintf(`{"p":"dead-process","k":"user","t":%d,"u":%q,"n":"Ghost","s":{"active":true,"lastActive":%q,"pages":{%q:%q}}}`,
		time.Now().UnixMilli(), ghost.ID, time.Now().UTC().Format(time.RFC3339Nano), doc, d)
	if err := (pgbus.Sender{DB: db}).Send(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	oA.awaitViewers(doc, "Ghost,Owner")
	oB.watchPresence(func(m realtime.MemberPresence) bool {
		return m.UserID == ghost.ID && m.Status == realtime.StatusOnline && len(m.PageIDs) == 1
	})
	// No heartbeat follows: both processes drop the ghost.
	oA.awaitViewers(doc, "Owner")
	for _, e := range oB.watchPresence(is(ghost.ID, realtime.StatusOffline)) {
		if e.UserID == ghost.ID && e.Status == realtime.StatusOffline && (e.LastSeenAt == nil || len(e.PageIDs) != 0 || e.Name != "Ghost") {
			t.Fatalf("the ghost after its process's lease: %+v", e)
		}
	}
	if g := membersOf(t, oA.call("join_drive", d))[ghost.ID]; g.Status != realtime.StatusOffline {
		t.Fatalf("the ghost seen from A: %+v", g)
	}
}

package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
	"github.com/pagespace/pagespace/realtime"
)

// presenceEvent is a presence_changed payload.
type presenceEvent struct {
	DriveID string                    `json:"driveId"`
	Members []realtime.MemberPresence `json:"members"`
}

func presenceOf(t *testing.T, ev sioclient.Event) presenceEvent {
	t.Helper()
	var p presenceEvent
	if len(ev.Args) == 0 || json.Unmarshal(ev.Args[0], &p) != nil {
		t.Fatalf("presence_changed without a payload: %v", ev.Args)
	}
	return p
}

// watchPresence reads s's presence_changed events until until returns true for one member
// entry, and returns every entry received on the way (that one included), in order.
func (s *sock) watchPresence(until func(m realtime.MemberPresence) bool) []realtime.MemberPresence {
	s.r.t.Helper()
	var seen []realtime.MemberPresence
	for {
		ev := s.await("presence_changed")
		for _, m := range presenceOf(s.r.t, ev).Members {
			seen = append(seen, m)
			if until(m) {
				return seen
			}
		}
	}
}

func membersOf(t *testing.T, ack map[string]any) map[string]realtime.MemberPresence {
	t.Helper()
	raw, _ := json.Marshal(ack["members"])
	var list []realtime.MemberPresence
	if err := json.Unmarshal(raw, &list); err != nil || ack["members"] == nil {
		t.Fatalf("join_drive ack without members: %v", ack)
	}
	out := map[string]realtime.MemberPresence{}
	for _, m := range list {
		if _, dup := out[m.UserID]; dup {
			t.Fatalf("member %s listed twice: %v", m.UserID, ack)
		}
		out[m.UserID] = m
	}
	return out
}

func is(userID, status string) func(realtime.MemberPresence) bool {
	return func(m realtime.MemberPresence) bool { return m.UserID == userID && m.Status == status }
}

// Drive presence on one process: the join_drive snapshot, per user across tabs, the page each
// member views named only to those who may view it, and lastSeenAt kept across a restart.
func TestDrivePresence(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.Realtime.PresenceInterval = 50 * time.Millisecond
	r := &rt{Env: apptest.StartWith(t, cfg), t: t}
	owner, member, viewer, grantee := r.Signup("Owner"), r.Signup("Member"), r.Signup("Viewer"), r.Signup("Grantee")
	d := r.CreateDrive(owner, "D")
	r.AddMember(owner, d, member, "MEMBER")
	r.AddMember(owner, d, viewer, "MEMBER")
	secret := r.CreatePage(owner, d, "DOCUMENT", "Secret", "")
	r.Do("PATCH", "/api/pages/"+secret, owner.Token, map[string]any{"isPrivate": true}).Expect(200)
	r.Grant(owner, secret, member, true, false, false, false)
	r.Grant(owner, secret, grantee, true, false, false, false)

	v := r.dial(viewer)
	snap := membersOf(t, v.call("join_drive", d))
	if len(snap) != 3 || snap[owner.ID].Status != realtime.StatusOffline || snap[owner.ID].LastSeenAt != nil ||
		snap[viewer.ID].Status != realtime.StatusOnline || snap[owner.ID].Name != "Owner" {
		t.Fatalf("snapshot %+v", snap)
	}
	m := r.dial(member)
	if me := membersOf(t, m.call("join_drive", d))[member.ID]; me.Status != realtime.StatusOnline {
		t.Fatalf("the member's own entry: %+v", me)
	}
	v.watchPresence(is(member.ID, realtime.StatusOnline))

	// A grantee joins the drive room but does not see the member list.
	g := r.dial(grantee)
	if ack := g.call("join_drive", d); ack["ok"] != true || ack["members"] != nil {
		t.Fatalf("grantee's join_drive ack %v", ack)
	}

	// The owner comes online in two tabs and opens the private page in one: one user.
	tab1 := r.dial(owner)
	tab1.call("join_drive", d)
	tab1.join(secret)
	views := func(m realtime.MemberPresence) bool {
		return m.UserID == owner.ID && len(m.PageIDs) == 1 && m.PageIDs[0] == secret
	}
	m.watchPresence(views)
	for _, e := range v.watchPresence(is(owner.ID, realtime.StatusOnline)) {
		if len(e.PageIDs) != 0 {
			t.Fatalf("the viewer was told the owner views a private page: %+v", e)
		}
	}
	snap = membersOf(t, v.call("join_drive", d))
	if o := snap[owner.ID]; o.Status != realtime.StatusOnline || len(o.PageIDs) != 0 || o.LastSeenAt == nil {
		t.Fatalf("viewer's snapshot of the owner: %+v", o)
	}
	if o := membersOf(t, m.call("join_drive", d))[owner.ID]; len(o.PageIDs) != 1 || o.PageIDs[0] != secret {
		t.Fatalf("member's snapshot of the owner: %+v", o)
	}
	tab2 := r.dial(owner)
	tab2.call("join_drive", d)
	tab1.Close()
	r.waitConnections(4)
	// Nothing about the owner changed: the next presence news the viewer gets is about someone
	// else. The member leaves and comes back as the marker.
	m.Close()
	r.waitConnections(3)
	m = r.dial(member)
	m.call("join_drive", d)
	for _, e := range v.watchPresence(is(member.ID, realtime.StatusOnline)) {
		if e.UserID == owner.ID && e.Status != realtime.StatusOnline {
			t.Fatalf("closing one of two tabs changed the owner's presence: %+v", e)
		}
	}

	tab2.Close()
	var seen *time.Time
	for _, e := range v.watchPresence(is(owner.ID, realtime.StatusOffline)) {
		if e.UserID == owner.ID && e.Status == realtime.StatusOffline {
			if e.LastSeenAt == nil || e.Name != "Owner" {
				t.Fatalf("offline without lastSeenAt or name: %+v", e)
			}
			at := time.Time(*e.LastSeenAt)
			seen = &at
		}
	}
	r.waitConnections(3)

	// After a restart the last-seen time comes from the database.
	if err := r.App.Shutdown(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	r2 := &rt{Env: apptest.StartWith(t, cfg), t: t}
	o := membersOf(t, r2.dial(viewer).call("join_drive", d))[owner.ID]
	if o.Status != realtime.StatusOffline || o.LastSeenAt == nil || !time.Time(*o.LastSeenAt).Equal(*seen) {
		t.Fatalf("after a restart the owner is %+v, last seen %v before", o, seen)
	}
}

// A connected user without activity becomes idle; an activity ping makes it online again.
func TestDrivePresenceIdle(t *testing.T) {
	r := start(t, func(c *app.Config) {
		c.Realtime.IdleAfter = 300 * time.Millisecond
		c.Realtime.PresenceInterval = 20 * time.Millisecond
	})
	owner, member := r.Signup("Owner"), r.Signup("Member")
	d := r.CreateDrive(owner, "D")
	r.AddMember(owner, d, member, "MEMBER")
	o := r.dial(owner)
	o.call("join_drive", d)
	m := r.dial(member)
	m.call("join_drive", d)
	o.watchPresence(is(member.ID, realtime.StatusIdle))
	if ack := m.call("activity"); ack["ok"] != true {
		t.Fatalf("activity: %v", ack)
	}
	o.watchPresence(is(member.ID, realtime.StatusOnline))
	if ack := m.call("activity", map[string]any{"x": 1}); ack["ok"] != false {
		t.Fatalf("activity with an argument: %v", ack)
	}
	o.watchPresence(is(member.ID, realtime.StatusIdle))
	m.Close()
	o.watchPresence(is(member.ID, realtime.StatusOffline))
}

// 200 members of one drive reconnect at once: an observer receives a bounded number of
// presence_changed events per second, every member comes online, and a later join_drive ack
// lists each member once.
func TestDrivePresenceConnectStorm(t *testing.T) {
	const n = 200
	interval := 200 * time.Millisecond
	r := start(t, func(c *app.Config) {
		c.Realtime.PresenceInterval = interval
		c.Realtime.MaxUnauthenticatedPerAddr = 2 * n
	})
	owner := r.Signup("Owner")
	d := r.CreateDrive(owner, "D")
	members := make([]apptest.User, n)
	for i := range members {
		members[i] = r.Signup(fmt.Sprintf("M%03d", i))
		r.AddMember(owner, d, members[i], "MEMBER")
	}
	obs := r.dial(owner)
	obs.call("join_drive", d)

	began := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	socks := make([]*sioclient.Client, n)
	for i, u := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			c, err := sioclient.Dial(ctx, r.URL, map[string]any{"token": u.Token}, nil)
			if err != nil {
				errs <- err
				return
			}
			socks[i] = c
			var ack map[string]any
			if err := c.Call(ctx, &ack, "join_drive", d); err != nil || ack["ok"] != true {
				errs <- fmt.Errorf("join_drive: %v %v", err, ack)
			}
		}()
	}
	t.Cleanup(func() {
		for _, c := range socks {
			if c != nil {
				c.Close()
			}
		}
	})
	online := map[string]bool{}
	events := 0
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a storm, under -race
	defer cancel()
	for len(online) < n {
		ev, _, err := obs.WaitFor(ctx, "presence_changed")
		if err != nil {
			t.Fatalf("%d of %d members online: %v", len(online), n, err)
		}
		events++
		for _, m := range presenceOf(t, ev).Members {
			if m.Status == realtime.StatusOnline && m.UserID != owner.ID {
				online[m.UserID] = true
			}
		}
	}
	elapsed := time.Since(began)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// One event at once, then at most one per interval.
	if limit := 1 + int(elapsed/interval) + 1; events > limit {
		t.Fatalf("%d presence_changed events in %v, more than %d", events, elapsed, limit)
	}
	t.Logf("%d members online in %v with %d presence_changed events", n, elapsed, events)
	snap := membersOf(t, obs.call("join_drive", d))
	if len(snap) != n+1 {
		t.Fatalf("join_drive ack lists %d members, want %d", len(snap), n+1)
	}
}

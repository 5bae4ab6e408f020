package realtime_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// TestEventsShowOnlyWhatTheRecipientMaySee: whatever a user may not list, no event shows them,
// live, on recovery replay, or in /api/events. A grantee of a page inside a private folder is not
// told the folder's id (parentId, previousParentId) nor the ids of pages under it it may not see
// (pageIds); a member without share is not told of grants; a member of one of a deleted user's
// drives is not told of the others.
func TestEventsShowOnlyWhatTheRecipientMaySee(t *testing.T) {
	for _, mode := range []string{"live", "replay"} {
		t.Run(mode, func(t *testing.T) { eventsShowOnlyWhatMaySee(t, mode == "replay") })
	}
}

func eventsShowOnlyWhatMaySee(t *testing.T, replay bool) {
	r := start(t)
	owner, guest, member, other, leaver := r.Signup("Owner"), r.Signup("Guest"), r.Signup("Member"), r.Signup("Other"), r.Signup("Leaver")
	d := r.CreateDrive(owner, "Team")
	d2 := r.CreateDrive(owner, "Elsewhere")
	r.AddMember(owner, d, member, "MEMBER")
	r.AddMember(owner, d, leaver, "MEMBER")
	r.AddMember(owner, d2, leaver, "MEMBER")
	private := func(title, parent string) string {
		body := map[string]any{"title": title, "type": "FOLDER", "isPrivate": true}
		if parent != "" {
			body["parentId"] = parent
		}
		return r.Do("POST", "/api/drives/"+d+"/pages", owner.Token, body).Expect(201).ID()
	}
	folder, folder2 := private("Folder", ""), private("Folder 2", "")
	p := r.CreatePage(owner, d, "DOCUMENT", "Shared", folder)
	c1 := r.CreatePage(owner, d, "DOCUMENT", "Child", p)
	c2 := r.CreatePage(owner, d, "DOCUMENT", "Denied child", p)
	q := r.CreatePage(owner, d, "DOCUMENT", "Also shared", "")
	pub := r.CreatePage(owner, d, "DOCUMENT", "Public", "")
	r.Grant(owner, p, guest, true, true, false, true)
	r.Grant(owner, c2, guest, false, false, false, false) // a deny: c2 is hidden from the guest
	r.Grant(owner, q, guest, true, false, false, false)   // keeps the guest in the drive's room

	g := r.dial(guest).withBarrier()
	g.call("join_drive", d)
	g.join(p)
	m := r.dial(member).withBarrier()
	m.call("join_drive", d)
	m.join(pub)
	o := r.dial(owner).withBarrier()
	o.call("join_drive", d)
	for _, s := range []*sock{g, m, o} {
		s.sync()
	}
	base := r.LatestEvent()
	var gAway, mAway func() []sioclient.Event
	if replay {
		gAway, mAway = g.away(), m.away()
	}

	r.Do("PATCH", "/api/pages/"+p, owner.Token, map[string]any{"title": "Shared 2"}).Expect(200)
	r.Do("POST", "/api/pages/"+p+"/move", owner.Token, map[string]any{"parentId": folder2, "position": 1}).Expect(200)
	r.Trash(owner, p)
	r.Do("POST", "/api/pages/"+p+"/restore", owner.Token, nil).Expect(200)
	r.Grant(owner, pub, other, true, false, false, false)
	r.Grant(owner, p, other, true, false, false, false)
	r.Do("DELETE", "/api/pages/"+pub+"/permissions/"+other.ID, owner.Token, nil).Expect(204)
	r.Do("DELETE", "/api/auth/me", leaver.Token, map[string]any{"password": "correct horse"}).Expect(204)

	var gEvents, mEvents []sioclient.Event
	if replay {
		gEvents, mEvents = gAway(), mAway()
	} else {
		gEvents, mEvents = g.sync(), m.sync()
	}
	oEvents := o.sync()

	checkGuest := func(how string, evs []apptest.Event) {
		t.Helper()
		noneMentions(t, how, evs, folder, folder2, c2, other.ID)
		for _, typ := range []string{"page_updated", "page_moved", "page_deleted", "page_restored"} {
			e := only(t, how, evs, typ, p)
			if field(e, "page", "parentId") != nil || field(e, "page", "detached") != true {
				t.Errorf("%s: %s shows the guest the page's hidden parent: %v", how, typ, e)
			}
		}
		if e := only(t, how, evs, "page_moved", p); e["previousParentId"] != nil {
			t.Errorf("%s: page_moved shows the hidden previous parent: %v", how, e)
		}
		for _, typ := range []string{"page_deleted", "page_restored"} {
			if got := strs(only(t, how, evs, typ, p)["pageIds"]); !slices.Equal(got, []string{p, c1}) {
				t.Errorf("%s: %s pageIds %v, want %v (the denied child left out)", how, typ, got, []string{p, c1})
			}
		}
		none(t, how, evs, "permission_granted", "permission_revoked", "user_deleted")
	}
	checkMember := func(how string, evs []apptest.Event) {
		t.Helper()
		noneMentions(t, how, evs, d2, other.ID, folder, folder2, p, c1, c2)
		none(t, how, evs, "permission_granted", "permission_revoked")
		if got := strs(only(t, how, evs, "user_deleted", "")["driveIds"]); !slices.Equal(got, []string{d}) {
			t.Errorf("%s: user_deleted driveIds %v, want only the shared drive %s", how, got, d)
		}
	}
	checkOwner := func(how string, evs []apptest.Event) {
		t.Helper()
		if e := only(t, how, evs, "page_moved", p); field(e, "page", "parentId") != folder2 || e["previousParentId"] != folder {
			t.Errorf("%s: owner's page_moved %v", how, e)
		}
		if got := strs(only(t, how, evs, "page_deleted", p)["pageIds"]); len(got) != 3 {
			t.Errorf("%s: owner's pageIds %v", how, got)
		}
		if n := len(of(evs, "permission_granted")) + len(of(evs, "permission_revoked")); n != 3 {
			t.Errorf("%s: owner got %d grant events, want 3", how, n)
		}
		got := strs(only(t, how, evs, "user_deleted", "")["driveIds"])
		slices.Sort(got)
		want := []string{d, d2}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: owner's user_deleted driveIds %v, want %v", how, got, want)
		}
	}
	sockHow := "socket"
	if replay {
		sockHow = "replay"
	}
	checkGuest(sockHow, asEvents(gEvents))
	checkMember(sockHow, asEvents(mEvents))
	checkOwner("socket", asEvents(oEvents))
	checkGuest("/api/events", r.EventsAfter(guest, base))
	checkMember("/api/events", r.EventsAfter(member, base))
	checkOwner("/api/events", r.EventsAfter(owner, base))
}

// away drops the socket's transport and returns a function that, once the test has written what
// happens meanwhile, reconnects with recovery and returns the events replayed up to a write to
// the barrier page made after them.
func (s *sock) away() func() []sioclient.Event {
	s.r.t.Helper()
	pid, offset := s.PID, s.Offset()
	s.Close()
	<-s.Done
	return func() []sioclient.Event {
		s.r.t.Helper()
		s.r.Do("PATCH", "/api/pages/"+s.barrier, s.u.Token, map[string]any{"title": "b " + time.Now().String()}).Expect(200)
		c, err := s.r.Dial(ctxT(s.r.t), map[string]any{"token": s.u.Token, "pid": pid, "offset": offset}, nil)
		if err != nil {
			s.r.t.Fatalf("recover: %v", err)
		}
		s.r.t.Cleanup(func() { c.Close() })
		if c.PID != pid {
			s.r.t.Fatalf("not recovered: pid %q, was %q", c.PID, pid)
		}
		var out []sioclient.Event
		for {
			ev, err := c.Next(ctxT(s.r.t))
			if err != nil {
				s.r.t.Fatalf("replay: %v (after %v)", err, names(out))
			}
			if ev.Name == "page_updated" && pageIDOf(ev) == s.barrier {
				return out
			}
			if ev.Offset != "" { // domain events only
				out = append(out, ev)
			}
		}
	}
}

// asEvents turns socket events into the shape of /api/events items.
func asEvents(evs []sioclient.Event) []apptest.Event {
	var out []apptest.Event
	for _, ev := range evs {
		if ev.Offset == "" {
			continue // access_revoked and other socket-only events
		}
		out = append(out, apptest.Event{EventID: ev.Offset, Type: ev.Name, Payload: payload(ev)})
	}
	return out
}

func of(evs []apptest.Event, typ string) []apptest.Event {
	var out []apptest.Event
	for _, e := range evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

// only returns the payload of the one event of typ about pageID ("" for any), failing otherwise.
func only(t *testing.T, how string, evs []apptest.Event, typ, pageID string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, e := range of(evs, typ) {
		if pageID == "" || e.Payload["pageId"] == pageID {
			found = append(found, e.Payload)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d %s events about %q, want 1", how, len(found), typ, pageID)
	}
	return found[0]
}

func none(t *testing.T, how string, evs []apptest.Event, types ...string) {
	t.Helper()
	for _, typ := range types {
		if got := of(evs, typ); len(got) > 0 {
			t.Errorf("%s: must not get %s: %v", how, typ, got[0].Payload)
		}
	}
}

// noneMentions fails if any payload names one of ids.
func noneMentions(t *testing.T, how string, evs []apptest.Event, ids ...string) {
	t.Helper()
	for _, e := range evs {
		b, _ := json.Marshal(e.Payload)
		for _, id := range ids {
			if strings.Contains(string(b), id) {
				t.Errorf("%s: %s names %s, which the recipient may not see: %s", how, e.Type, id, b)
			}
		}
	}
}

func field(p map[string]any, path ...string) any {
	var v any = p
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func strs(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return out
}

// TestPermanentDeleteShowsWhatWasVisible: a page deleted for good still reaches a socket that
// could see it, but pageIds and the parent are shaped by what that user could see until then.
func TestPermanentDeleteShowsWhatWasVisible(t *testing.T) {
	r := start(t)
	owner, guest := r.Signup("Owner"), r.Signup("Guest")
	d := r.CreateDrive(owner, "Team")
	folder := r.Do("POST", "/api/drives/"+d+"/pages", owner.Token, map[string]any{"title": "Folder", "type": "FOLDER", "isPrivate": true}).Expect(201).ID()
	p := r.CreatePage(owner, d, "DOCUMENT", "Shared", folder)
	c1 := r.CreatePage(owner, d, "DOCUMENT", "Child", p)
	c2 := r.CreatePage(owner, d, "DOCUMENT", "Denied child", p)
	r.Grant(owner, p, guest, true, false, false, false)
	r.Grant(owner, c2, guest, false, false, false, false)
	g := r.dial(guest).withBarrier()
	g.join(p)
	o := r.dial(owner).withBarrier()
	o.call("join_drive", d)
	g.sync()
	o.sync()

	r.Do("DELETE", "/api/pages/"+p+"?permanent=true", owner.Token, nil).Expect(204)
	evs := asEvents(g.sync())
	e := only(t, "socket", evs, "page_deleted", p)
	if e["permanent"] != true || field(e, "page", "parentId") != nil || field(e, "page", "detached") != true {
		t.Fatalf("guest's page_deleted: %v", e)
	}
	if got := strs(e["pageIds"]); !slices.Equal(got, []string{p, c1}) {
		t.Fatalf("guest's pageIds %v, want %v", got, []string{p, c1})
	}
	noneMentions(t, "socket", evs, folder, c2)
	if got := strs(only(t, "socket", asEvents(o.sync()), "page_deleted", p)["pageIds"]); len(got) != 3 {
		t.Fatalf("owner's pageIds %v", got)
	}
}

// TestDriveDeletedShowsOnlyTheRecipient: drive_deleted names who lost access; a member may not
// list the grantees, nor a grantee the members, so each sees only itself there, while the owner
// who deleted the drive sees everyone.
func TestDriveDeletedShowsOnlyTheRecipient(t *testing.T) {
	r := start(t)
	owner, member, guest := r.Signup("Owner"), r.Signup("Member"), r.Signup("Guest")
	d := r.CreateDrive(owner, "Team")
	r.AddMember(owner, d, member, "MEMBER")
	p := r.CreatePage(owner, d, "DOCUMENT", "Shared", "")
	r.Grant(owner, p, guest, true, false, false, false)
	m := r.dial(member).withBarrier()
	m.call("join_drive", d)
	g := r.dial(guest).withBarrier()
	m.sync()
	g.sync()
	base := r.LatestEvent()

	r.Do("DELETE", "/api/drives/"+d, owner.Token, nil).Expect(204)
	for _, c := range []struct {
		u    apptest.User
		evs  []apptest.Event
		how  string
		want []string
	}{
		{member, asEvents(m.sync()), "socket", []string{member.ID}},
		{guest, asEvents(g.sync()), "socket", []string{guest.ID}},
		{member, r.EventsAfter(member, base), "/api/events", []string{member.ID}},
		{guest, r.EventsAfter(guest, base), "/api/events", []string{guest.ID}},
	} {
		if got := strs(only(t, c.how, c.evs, "drive_deleted", "")["userIds"]); !slices.Equal(got, c.want) {
			t.Errorf("%s: %s's userIds %v, want %v", c.how, c.u.Name, got, c.want)
		}
	}
	got := strs(only(t, "/api/events", r.EventsAfter(owner, base), "drive_deleted", "")["userIds"])
	slices.Sort(got)
	want := []string{owner.ID, member.ID, guest.ID}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("owner's userIds %v, want %v", got, want)
	}
}

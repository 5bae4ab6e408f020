package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// visibilityCast is every kind of user the visibility rules tell apart, in one drive.
type visibilityCast struct {
	owner, admin, member, viewer, agent apptest.User
	grantee                             apptest.User // of page G only
	trashGrantee                        apptest.User // of page T only, which is in the trash
	outsider                            apptest.User
}

func (c visibilityCast) all() []apptest.User {
	return []apptest.User{c.owner, c.admin, c.member, c.viewer, c.agent, c.grantee, c.trashGrantee, c.outsider}
}

// visibilityStep is one write of the matrix and who sees its event: on a socket in every room
// the user may join, and in GET /api/events asked afterwards.
type visibilityStep struct {
	name   string
	typ    string // the one event the write records
	write  func()
	socket []apptest.User
	feed   []apptest.User // nil: the same as socket
}

// TestFeedAndSocketAgree: for every kind of user and every kind of event, a socket that joined
// every room it may join receives exactly the events GET /api/events shows the same user, with
// the same payload; both follow one rule (permissions.Audience, DriveView.SeesDrive/MayJoin).
// The one difference is documented: a page deleted for good reaches the sockets of everyone who
// could see it until then, while the feed, which can no longer resolve the page, shows it to the
// drive's managers only.
func TestFeedAndSocketAgree(t *testing.T) {
	r := start(t)
	w := r.NewWorld()
	d := w.Drive
	c := visibilityCast{owner: w.Owner, admin: w.Admin, member: w.Member, viewer: w.Viewer, outsider: w.Outsider,
		grantee: r.Signup("Gina Grantee"), trashGrantee: r.Signup("Tess Trash")}
	c.agent, _ = r.newAgent(c.owner, d, "Helper", "MEMBER")
	ch := w.Page("CHANNEL", "chat")
	list := w.Page("TASK_LIST", "todo")
	doc := w.Page("DOCUMENT", "doc")
	g := w.Page("DOCUMENT", "granted")
	tp := w.Page("DOCUMENT", "trashed")
	private := r.Do("POST", "/api/drives/"+d+"/pages", c.owner.Token, map[string]any{"title": "private", "type": "DOCUMENT", "isPrivate": true}).Expect(201).ID()
	r.Grant(c.owner, g, c.grantee, true, false, false, false)
	r.Grant(c.owner, tp, c.trashGrantee, true, false, false, true)
	r.Trash(c.owner, tp)

	socks := map[string]*sock{}
	for _, u := range c.all() {
		s := r.dial(u)
		if u.ID == c.agent.ID {
			// An agent cannot make a drive of its own: its barrier is a page of the drive, and
			// the barrier's events come after the matrix's.
			s.barrier = r.CreatePage(c.owner, d, "DOCUMENT", "agent barrier", "")
			s.join(s.barrier)
		} else {
			s.withBarrier()
		}
		s.call("join_drive", d) // refused for the outsider
		for _, p := range []string{ch, list, doc, g, tp, private} {
			s.call("join_page", p) // refused where the user may not open the page
		}
		s.sync()
		socks[u.ID] = s
	}
	managers := []apptest.User{c.owner, c.admin}
	members := []apptest.User{c.owner, c.admin, c.member, c.viewer, c.agent}
	with := func(us []apptest.User, more ...apptest.User) []apptest.User { return append(slices.Clone(us), more...) }
	steps := []visibilityStep{
		{name: "page created", typ: "page_created", socket: members, write: func() {
			r.CreatePage(c.owner, d, "DOCUMENT", "new", "")
		}},
		{name: "page renamed", typ: "page_updated", socket: members, write: func() {
			r.Do("PATCH", "/api/pages/"+ch, c.owner.Token, map[string]any{"title": "chat 2"}).Expect(200)
		}},
		{name: "private page renamed", typ: "page_updated", socket: managers, write: func() {
			r.Do("PATCH", "/api/pages/"+private, c.owner.Token, map[string]any{"title": "private 2"}).Expect(200)
		}},
		{name: "granted page renamed", typ: "page_updated", socket: with(members, c.grantee), write: func() {
			r.Do("PATCH", "/api/pages/"+g, c.owner.Token, map[string]any{"title": "granted 2"}).Expect(200)
		}},
		{name: "message", typ: "new_message", socket: members, write: func() { r.PostMessage(c.member, ch, "hello") }},
		{name: "task", typ: "task_created", socket: members, write: func() {
			r.Do("POST", "/api/pages/"+list+"/tasks", c.member.Token, map[string]any{"title": "do it"}).Expect(201)
		}},
		// Grant events: for those who may list the page's grants, and the grantee.
		{name: "grant", typ: "permission_granted", socket: with(managers, c.member), write: func() {
			r.Grant(c.owner, private, c.member, true, false, false, false)
		}},
		{name: "grant revoked", typ: "permission_revoked", socket: with(managers, c.member), write: func() {
			r.Do("DELETE", "/api/pages/"+private+"/permissions/"+c.member.ID, c.owner.Token, nil).Expect(204)
		}},
		{name: "page trashed", typ: "page_deleted", socket: members, write: func() { r.Trash(c.owner, doc) }},
		// A grantee whose page is in the trash still sees the drive.
		{name: "drive renamed", typ: "drive_updated", socket: with(members, c.grantee, c.trashGrantee), write: func() {
			r.Do("PATCH", "/api/drives/"+d, c.owner.Token, map[string]any{"name": "Team 2"}).Expect(200)
		}},
		{name: "page restored", typ: "page_restored", socket: with(members, c.trashGrantee), write: func() {
			r.Do("POST", "/api/pages/"+tp+"/restore", c.owner.Token, nil).Expect(200)
		}},
		{name: "role changed", typ: "member_role_changed", socket: members, write: func() {
			r.SetRole(c.owner, d, c.viewer, "MEMBER")
		}},
		{name: "page deleted for good", typ: "page_deleted", socket: with(members, c.grantee), feed: managers, write: func() {
			r.Do("DELETE", "/api/pages/"+g+"?permanent=true", c.owner.Token, nil).Expect(204)
		}},
	}

	// The feed is asked right after each write, when the access it checks is the access the
	// socket was checked against (the broker applies an event's access change before delivering
	// it); the sockets' events are collected at the end.
	ids := map[string]visibilityStep{}   // eventId → the step that wrote it
	shown := map[string]map[string]any{} // user id + eventId → payload in /api/events
	for _, st := range steps {
		before := r.LatestEvent()
		st.write()
		id := stepEvent(t, r, before, st)
		ids[id] = st
		for _, u := range c.all() {
			for _, e := range r.EventsAfter(u, before) {
				if e.EventID == id {
					shown[u.ID+id] = e.Payload
				}
			}
		}
	}
	for _, u := range c.all() {
		got := map[string]map[string]any{}
		for _, e := range asEvents(socks[u.ID].sync()) {
			if _, ok := ids[e.EventID]; ok {
				got[e.EventID] = e.Payload
			}
		}
		for id, st := range ids {
			feed := st.feed
			if feed == nil {
				feed = st.socket
			}
			wantSocket, wantFeed := sees(st.socket, u), sees(feed, u)
			if _, ok := got[id]; ok != wantSocket {
				t.Errorf("%s, %s (%s): the socket got it: %v, want %v", u.Name, st.name, st.typ, ok, wantSocket)
			}
			if _, ok := shown[u.ID+id]; ok != wantFeed {
				t.Errorf("%s, %s (%s): /api/events shows it: %v, want %v", u.Name, st.name, st.typ, ok, wantFeed)
			}
			if a, b := got[id], shown[u.ID+id]; a != nil && b != nil && jsonOf(a) != jsonOf(b) {
				t.Errorf("%s, %s: the socket and /api/events show different payloads:\n%s\n%s", u.Name, st.name, jsonOf(a), jsonOf(b))
			}
		}
	}
}

// stepEvent returns the id of the one event the step's write recorded after before.
func stepEvent(t *testing.T, r *rt, before string, st visibilityStep) string {
	t.Helper()
	var after int64
	fmt.Sscan(before, &after)
	evs, err := r.App.Events().After(context.Background(), after, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].Type != st.typ {
		types := make([]string, len(evs))
		for i, e := range evs {
			types[i] = e.Type
		}
		t.Fatalf("%s wrote %s, want one %s", st.name, strings.Join(types, ", "), st.typ)
	}
	return evs[0].EventID()
}

func sees(us []apptest.User, u apptest.User) bool {
	return slices.ContainsFunc(us, func(x apptest.User) bool { return x.ID == u.ID })
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestDeletedForGoodReachesTheDriveRoom: a grantee who watches the drive but not the page learns
// that the page was deleted for good: it loses the drive's room (it sees nothing of the drive
// any more), is told so, and then receives the page_deleted that took it away.
func TestDeletedForGoodReachesTheDriveRoom(t *testing.T) {
	r := start(t)
	owner, guest := r.Signup("Owner"), r.Signup("Guest")
	d := r.CreateDrive(owner, "Team")
	p := r.CreatePage(owner, d, "DOCUMENT", "Shared", "")
	r.Grant(owner, p, guest, true, false, false, false)
	g := r.dial(guest).withBarrier()
	if ack := g.call("join_drive", d); ack["ok"] != true {
		t.Fatalf("join_drive: %v", ack)
	}
	g.sync()

	r.Do("DELETE", "/api/pages/"+p+"?permanent=true", owner.Token, nil).Expect(204)
	evs := g.sync()
	if got := names(evs); !slices.Equal(got, []string{"access_revoked", "page_deleted"}) {
		t.Fatalf("the grantee got %v, want access_revoked then page_deleted", got)
	}
	if room := payload(evs[0])["room"]; room != "drive:"+d {
		t.Fatalf("access_revoked for %v, want the drive's room", room)
	}
	if pageIDOf(evs[1]) != p {
		t.Fatalf("page_deleted about %s, want %s", pageIDOf(evs[1]), p)
	}
}

// TestAccessChangesReresolveWhomTheyName: an event that changes the access of one user (a
// member removed) re-resolves that user's view of the drive only; one that may change anyone's
// (a page made private) re-resolves every connected user with a view of the drive.
func TestAccessChangesReresolveWhomTheyName(t *testing.T) {
	r := start(t)
	w := r.NewWorld()
	page := w.Page("DOCUMENT", "doc")
	for _, u := range []apptest.User{w.Owner, w.Admin, w.Member, w.Viewer} {
		s := r.dial(u).withBarrier()
		s.call("join_drive", w.Drive)
		s.sync()
	}
	resolved := func(write func()) int64 {
		t.Helper()
		before := r.metric("pagespace_realtime_access_resolutions_total")
		write() // returns once its events are dispatched, re-resolution included
		return r.metric("pagespace_realtime_access_resolutions_total") - before
	}
	if n := resolved(func() {
		r.Do("DELETE", "/api/drives/"+w.Drive+"/members/"+w.Viewer.ID, w.Owner.Token, nil).Expect(204)
	}); n != 1 {
		t.Errorf("removing a member re-resolved %d views, want the member's only", n)
	}
	if n := resolved(func() {
		r.Do("PATCH", "/api/pages/"+page, w.Owner.Token, map[string]any{"isPrivate": true}).Expect(200)
	}); n != 4 {
		// The removed viewer's view (of nothing, now) is held too, while its socket is connected.
		t.Errorf("making a page private re-resolved %d views, want the 4 this process holds", n)
	}
}

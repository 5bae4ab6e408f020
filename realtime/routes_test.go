package realtime_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// Socket roles of a route scenario. Each role is a different user with one socket.
const (
	roleActor    = "actor"    // the drive's owner, who makes the writes; in its user room only
	roleAdmin    = "admin"    // an ADMIN of the drive, in the drive room
	rolePage     = "page"     // a MEMBER (or, on private pages, a grantee) in the page room
	roleDrive    = "drive"    // a MEMBER in the drive room
	roleOther    = "other"    // a MEMBER of the drive whose socket is in another drive's rooms
	roleTarget   = "target"   // the user a member or grant route is about; in its user room only
	roleOutsider = "outsider" // no relation to the drive
)

var routeRoles = []string{roleActor, roleAdmin, rolePage, roleDrive, roleOther, roleTarget, roleOutsider}

// routeFix is the world of one route scenario: a drive with a focus page the write is about.
type routeFix struct {
	r     *rt
	users map[string]apptest.User
	socks map[string]*sock
	rooms map[string]string // role → the room its socket joined in the drive (for access_revoked)

	drive, focus, folder string
	otherDrive           string
	msg, task            string

	actor     apptest.User
	wantDrive string // driveId every domain event must carry
	wantPage  string // pageId every domain event must carry; "" for drive and member events
	noJoin    bool   // the focus page cannot be joined (it is in the trash)
}

func (f *routeFix) owner() apptest.User  { return f.users[roleActor] }
func (f *routeFix) target() apptest.User { return f.users[roleTarget] }

type routeCase struct {
	name      string
	focusType string // DOCUMENT unless set
	private   bool   // the focus page is private; the page role sees it by an explicit grant
	prepare   func(f *routeFix)
	write     func(f *routeFix)
	noPage    bool // the events carry no pageId
	want      map[string][]string
}

// revoked is the expected access_revoked of a socket, with its reason; the room is the one the
// role joined.
func revoked(reason string) string { return "access_revoked/" + reason }

// lost is the access_revoked a socket in the drive's room gets for the focus page it can no
// longer see (so that its page tree drops the page).
func lost(reason string) string { return "page_lost/" + reason }

// TestWriteRoutesReachTheirRooms performs each write route of the API once and checks, for a
// socket in every relevant position, exactly which events it received: the expected types in log
// order, each with eventId equal to its offset and the right actorId, driveId and pageId, and
// nothing else (proved by each socket's sync barrier).
func TestWriteRoutesReachTheirRooms(t *testing.T) {
	r := start(t)
	all := func(types ...string) map[string][]string {
		return map[string][]string{roleAdmin: types, rolePage: types, roleDrive: types}
	}
	cases := []routeCase{
		{
			name: "drive create", noPage: true,
			write: func(f *routeFix) {
				f.wantDrive = f.r.Do("POST", "/api/drives", f.owner().Token, map[string]any{"name": "New"}).Expect(201).ID()
			},
			want: map[string][]string{roleActor: {"drive_created"}},
		},
		{
			name: "drive rename", noPage: true,
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/drives/"+f.drive, f.owner().Token, map[string]any{"name": "Renamed"}).Expect(200)
			},
			// The drive room and every member's user room.
			want: map[string][]string{roleActor: {"drive_updated"}, roleAdmin: {"drive_updated"}, rolePage: {"drive_updated"},
				roleDrive: {"drive_updated"}, roleOther: {"drive_updated"}},
		},
		{
			name: "drive delete", noPage: true,
			write: func(f *routeFix) { f.r.Do("DELETE", "/api/drives/"+f.drive, f.owner().Token, nil).Expect(204) },
			want: map[string][]string{roleActor: {"drive_deleted"},
				roleAdmin: {revoked("drive_deleted"), "drive_deleted"}, rolePage: {revoked("drive_deleted"), "drive_deleted"},
				roleDrive: {revoked("drive_deleted"), "drive_deleted"}, roleOther: {"drive_deleted"}},
		},
		{
			name: "member add", noPage: true,
			write: func(f *routeFix) {
				f.r.Do("POST", "/api/drives/"+f.drive+"/members", f.owner().Token, map[string]any{"userId": f.target().ID, "role": "MEMBER"}).Expect(201)
			},
			want: map[string][]string{roleAdmin: {"member_added"}, roleDrive: {"member_added"}, roleTarget: {"member_added"}},
		},
		{
			name: "member role change", noPage: true,
			prepare: func(f *routeFix) { f.r.AddMember(f.owner(), f.drive, f.target(), "MEMBER") },
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/drives/"+f.drive+"/members/"+f.target().ID, f.owner().Token, map[string]any{"role": "VIEWER"}).Expect(200)
			},
			want: map[string][]string{roleAdmin: {"member_role_changed"}, roleDrive: {"member_role_changed"}, roleTarget: {"member_role_changed"}},
		},
		{
			name: "member remove", noPage: true,
			prepare: func(f *routeFix) { f.r.AddMember(f.owner(), f.drive, f.target(), "MEMBER") },
			write: func(f *routeFix) {
				f.r.Do("DELETE", "/api/drives/"+f.drive+"/members/"+f.target().ID, f.owner().Token, nil).Expect(204)
			},
			want: map[string][]string{roleAdmin: {"member_removed"}, roleDrive: {"member_removed"}, roleTarget: {"member_removed"}},
		},
		{
			// Grant events reach only those who may list the page's grants (share) and the
			// grantee: not the MEMBERs of the page and drive rooms.
			name:  "grant put",
			write: func(f *routeFix) { f.r.Grant(f.owner(), f.focus, f.target(), true, false, false, false) },
			want:  map[string][]string{roleAdmin: {"permission_granted"}, roleTarget: {"permission_granted"}},
		},
		{
			name:    "grant delete",
			prepare: func(f *routeFix) { f.r.Grant(f.owner(), f.focus, f.target(), true, true, false, false) },
			write: func(f *routeFix) {
				f.r.Do("DELETE", "/api/pages/"+f.focus+"/permissions/"+f.target().ID, f.owner().Token, nil).Expect(204)
			},
			want: map[string][]string{roleAdmin: {"permission_revoked"}, roleTarget: {"permission_revoked"}},
		},
		{
			name: "page create at the root",
			write: func(f *routeFix) {
				f.wantPage = f.r.CreatePage(f.owner(), f.drive, "DOCUMENT", "New", "")
			},
			want: map[string][]string{roleAdmin: {"page_created"}, roleDrive: {"page_created"}},
		},
		{
			name: "page create as a child",
			write: func(f *routeFix) {
				f.wantPage = f.r.CreatePage(f.owner(), f.drive, "DOCUMENT", "Child", f.focus)
			},
			want: map[string][]string{roleAdmin: {"page_created"}, roleDrive: {"page_created"}},
		},
		{
			name: "page patch",
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/pages/"+f.focus, f.owner().Token, map[string]any{"title": "Renamed", "content": "text"}).Expect(200)
			},
			// A new content is also an op of live editing, for the page's room only.
			want: map[string][]string{roleAdmin: {"page_updated"}, rolePage: {"doc_op", "page_updated"}, roleDrive: {"page_updated"}},
		},
		{
			name: "page move",
			write: func(f *routeFix) {
				f.r.Do("POST", "/api/pages/"+f.focus+"/move", f.owner().Token, map[string]any{"parentId": f.folder, "position": 1}).Expect(200)
			},
			want: all("page_moved"),
		},
		{
			name:  "page trash",
			write: func(f *routeFix) { f.r.Do("DELETE", "/api/pages/"+f.focus, f.owner().Token, nil).Expect(204) },
			// A trashed page has no room: its viewers are told why they left it, then get the event.
			want: map[string][]string{roleAdmin: {"page_deleted"}, rolePage: {revoked("page_deleted"), "page_deleted"}, roleDrive: {"page_deleted"}},
		},
		{
			name: "page restore",
			prepare: func(f *routeFix) {
				f.r.Do("DELETE", "/api/pages/"+f.focus, f.owner().Token, nil).Expect(204)
				f.noJoin = true
			},
			write: func(f *routeFix) {
				f.r.Do("POST", "/api/pages/"+f.focus+"/restore", f.owner().Token, nil).Expect(200)
			},
			want: map[string][]string{roleAdmin: {"page_restored"}, roleDrive: {"page_restored"}},
		},
		{
			name: "page permanent delete",
			write: func(f *routeFix) {
				f.r.Do("DELETE", "/api/pages/"+f.focus+"?permanent=true", f.owner().Token, nil).Expect(204)
			},
			// Everyone who could see the page until then is told, though nobody can resolve access
			// to it any more; the socket that was in its room is also removed from it.
			want: map[string][]string{roleAdmin: {"page_deleted"}, rolePage: {revoked("page_deleted"), "page_deleted"}, roleDrive: {"page_deleted"}},
		},
		{
			name: "page made private",
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/pages/"+f.focus, f.owner().Token, map[string]any{"isPrivate": true}).Expect(200)
			},
			// Members lose the page: the one in its room leaves it, the one in the drive's room is
			// told the page is gone from its tree; none receives its update.
			want: map[string][]string{roleAdmin: {"page_updated"}, rolePage: {revoked("page_private")}, roleDrive: {lost("page_private")}},
		},
		{
			name: "page moved under a private folder",
			prepare: func(f *routeFix) {
				f.r.Do("PATCH", "/api/pages/"+f.folder, f.owner().Token, map[string]any{"isPrivate": true}).Expect(200)
			},
			write: func(f *routeFix) {
				f.r.Do("POST", "/api/pages/"+f.focus+"/move", f.owner().Token, map[string]any{"parentId": f.folder, "position": 1}).Expect(200)
			},
			want: map[string][]string{roleAdmin: {"page_moved"}, rolePage: {revoked("page_moved")}, roleDrive: {lost("page_moved")}},
		},
		{
			name: "message post", focusType: "CHANNEL",
			write: func(f *routeFix) {
				f.r.Do("POST", "/api/pages/"+f.focus+"/messages", f.owner().Token, map[string]any{"content": "hello"}).Expect(201)
			},
			want: all("new_message"),
		},
		{
			name: "message patch", focusType: "CHANNEL", prepare: postMessage,
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/pages/"+f.focus+"/messages/"+f.msg, f.owner().Token, map[string]any{"content": "edited"}).Expect(200)
			},
			want: all("message_updated"),
		},
		{
			name: "message delete", focusType: "CHANNEL", prepare: postMessage,
			write: func(f *routeFix) {
				f.r.Do("DELETE", "/api/pages/"+f.focus+"/messages/"+f.msg, f.owner().Token, nil).Expect(204)
			},
			want: all("message_deleted"),
		},
		{
			name: "task create", focusType: "TASK_LIST",
			write: func(f *routeFix) {
				f.r.Do("POST", "/api/pages/"+f.focus+"/tasks", f.owner().Token, map[string]any{"title": "do it"}).Expect(201)
			},
			want: all("task_created"),
		},
		{
			name: "task patch", focusType: "TASK_LIST", prepare: createTask,
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/pages/"+f.focus+"/tasks/"+f.task, f.owner().Token, map[string]any{"title": "do it now", "status": "in_progress"}).Expect(200)
			},
			want: all("task_updated"),
		},
		{
			name: "task completion", focusType: "TASK_LIST", prepare: createTask,
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/pages/"+f.focus+"/tasks/"+f.task, f.owner().Token, map[string]any{"status": "done"}).Expect(200)
			},
			want: all("task_updated", "task_completed"),
		},
		{
			name: "task delete", focusType: "TASK_LIST", prepare: createTask,
			write: func(f *routeFix) {
				f.r.Do("DELETE", "/api/pages/"+f.focus+"/tasks/"+f.task, f.owner().Token, nil).Expect(204)
			},
			want: all("task_deleted"),
		},

		// Private pages: the drive role is a MEMBER who cannot see the focus page, the page role
		// sees it through an explicit grant, the admin sees everything.
		{
			name: "private: page patch", private: true,
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/pages/"+f.focus, f.owner().Token, map[string]any{"title": "Still secret"}).Expect(200)
			},
			want: map[string][]string{roleAdmin: {"page_updated"}, rolePage: {"page_updated"}},
		},
		{
			name: "private: child page create", private: true,
			write: func(f *routeFix) {
				f.wantPage = f.r.CreatePage(f.owner(), f.drive, "DOCUMENT", "Secret child", f.focus)
			},
			want: map[string][]string{roleAdmin: {"page_created"}},
		},
		{
			name: "private: page move", private: true,
			write: func(f *routeFix) {
				f.r.Do("POST", "/api/pages/"+f.focus+"/move", f.owner().Token, map[string]any{"parentId": f.folder, "position": 1}).Expect(200)
			},
			want: map[string][]string{roleAdmin: {"page_moved"}, rolePage: {"page_moved"}},
		},
		{
			name: "private: page trash", private: true,
			write: func(f *routeFix) { f.r.Do("DELETE", "/api/pages/"+f.focus, f.owner().Token, nil).Expect(204) },
			want:  map[string][]string{roleAdmin: {"page_deleted"}, rolePage: {revoked("page_deleted"), "page_deleted"}},
		},
		{
			name: "private: grant put", private: true,
			write: func(f *routeFix) { f.r.Grant(f.owner(), f.focus, f.target(), true, false, false, false) },
			want:  map[string][]string{roleAdmin: {"permission_granted"}, roleTarget: {"permission_granted"}},
		},
		{
			name: "private: message post", focusType: "CHANNEL", private: true,
			write: func(f *routeFix) {
				f.r.Do("POST", "/api/pages/"+f.focus+"/messages", f.owner().Token, map[string]any{"content": "psst"}).Expect(201)
			},
			want: map[string][]string{roleAdmin: {"new_message"}, rolePage: {"new_message"}},
		},
		{
			name: "private: message delete", focusType: "CHANNEL", private: true, prepare: postMessage,
			write: func(f *routeFix) {
				f.r.Do("DELETE", "/api/pages/"+f.focus+"/messages/"+f.msg, f.owner().Token, nil).Expect(204)
			},
			want: map[string][]string{roleAdmin: {"message_deleted"}, rolePage: {"message_deleted"}},
		},
		{
			name: "private: task completion", focusType: "TASK_LIST", private: true, prepare: createTask,
			write: func(f *routeFix) {
				f.r.Do("PATCH", "/api/pages/"+f.focus+"/tasks/"+f.task, f.owner().Token, map[string]any{"status": "done"}).Expect(200)
			},
			want: map[string][]string{roleAdmin: {"task_updated", "task_completed"}, rolePage: {"task_updated", "task_completed"}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rr := &rt{Env: r.Env, t: t}
			f := newRouteFix(rr, tc)
			tc.write(f)
			f.check(tc)
		})
	}
}

func postMessage(f *routeFix) {
	f.msg = f.r.Do("POST", "/api/pages/"+f.focus+"/messages", f.owner().Token, map[string]any{"content": "first"}).Expect(201).ID()
}

func createTask(f *routeFix) {
	f.task = f.r.Do("POST", "/api/pages/"+f.focus+"/tasks", f.owner().Token, map[string]any{"title": "a task"}).Expect(201).ID()
}

// newRouteFix builds the scenario's drive, users and sockets, and drains the set-up's events.
func newRouteFix(r *rt, tc routeCase) *routeFix {
	r.t.Helper()
	f := &routeFix{r: r, users: map[string]apptest.User{}, socks: map[string]*sock{}, rooms: map[string]string{}}
	for _, role := range routeRoles {
		f.users[role] = r.Signup(role)
	}
	owner := f.owner()
	f.actor = owner
	f.drive = r.CreateDrive(owner, "Team")
	r.AddMember(owner, f.drive, f.users[roleAdmin], "ADMIN")
	r.AddMember(owner, f.drive, f.users[rolePage], "MEMBER")
	r.AddMember(owner, f.drive, f.users[roleDrive], "MEMBER")
	r.AddMember(owner, f.drive, f.users[roleOther], "MEMBER")
	f.otherDrive = r.CreateDrive(f.users[roleOther], "Elsewhere")
	otherPage := r.CreatePage(f.users[roleOther], f.otherDrive, "DOCUMENT", "Elsewhere", "")
	typ := tc.focusType
	if typ == "" {
		typ = "DOCUMENT"
	}
	f.focus = r.CreatePage(owner, f.drive, typ, "Focus", "")
	f.folder = r.CreatePage(owner, f.drive, "FOLDER", "Folder", "")
	if tc.private {
		r.Do("PATCH", "/api/pages/"+f.focus, owner.Token, map[string]any{"isPrivate": true}).Expect(200)
		r.Grant(owner, f.focus, f.users[rolePage], true, false, false, false)
	}
	if tc.prepare != nil {
		tc.prepare(f)
	}
	f.wantDrive = f.drive
	if !tc.noPage {
		f.wantPage = f.focus
	}

	for _, role := range routeRoles {
		f.socks[role] = r.dial(f.users[role]).withBarrier()
	}
	joinDrive := func(role, driveID string) {
		if ack := f.socks[role].call("join_drive", driveID); ack["ok"] != true {
			r.t.Fatalf("%s: join_drive: %v", role, ack)
		}
		f.rooms[role] = "drive:" + driveID
	}
	joinDrive(roleAdmin, f.drive)
	joinDrive(roleDrive, f.drive)
	if !f.noJoin {
		f.socks[rolePage].join(f.focus)
		f.rooms[rolePage] = "page:" + f.focus
	}
	joinDrive(roleOther, f.otherDrive)
	f.socks[roleOther].join(otherPage)
	f.rooms[roleOther] = "" // its rooms are not in the drive: it is never revoked
	// Refused joins: the outsider everywhere, the drive member on a private page.
	for _, refused := range []struct{ role, event, id string }{
		{roleOutsider, "join_drive", f.drive}, {roleOutsider, "join_page", f.focus},
		{roleOther, "join_page", f.folder + "-missing"},
	} {
		if ack := f.socks[refused.role].call(refused.event, refused.id); ack["ok"] != false {
			r.t.Fatalf("%s: %s %s accepted: %v", refused.role, refused.event, refused.id, ack)
		}
	}
	if tc.private {
		if ack := f.socks[roleDrive].call("join_page", f.focus); ack["ok"] != false {
			r.t.Fatalf("a member joined a private page: %v", ack)
		}
	}
	for _, role := range routeRoles {
		f.socks[role].sync()
	}
	return f
}

// check syncs every socket and compares what each received with tc.want.
func (f *routeFix) check(tc routeCase) {
	t := f.r.t
	t.Helper()
	offsets := map[string]string{} // event type → its offset, the same for every recipient
	for _, role := range routeRoles {
		got := f.socks[role].sync()
		want := tc.want[role]
		var gotNames []string
		for _, ev := range got {
			name := ev.Name
			if name == "access_revoked" {
				p := payload(ev)
				name = revoked(str(p["reason"]))
				if p["room"] == "page:"+f.focus && f.rooms[role] == "drive:"+f.drive {
					name = lost(str(p["reason"]))
				} else if p["room"] != f.rooms[role] {
					t.Errorf("%s: access_revoked for room %v, want %q", role, p["room"], f.rooms[role])
				}
			}
			gotNames = append(gotNames, name)
		}
		if !slices.Equal(gotNames, want) {
			t.Errorf("%s received %v, want %v", role, gotNames, want)
			for _, ev := range got {
				t.Logf("  %s %s %s", ev.Name, ev.Offset, ev.Args[0])
			}
			continue
		}
		for _, ev := range got {
			if ev.Name == "access_revoked" {
				continue
			}
			f.checkPayload(role, ev, tc.noPage)
			if prev, seen := offsets[ev.Name]; seen && prev != ev.Offset {
				t.Errorf("%s: %s has offset %s, another recipient got %s", role, ev.Name, ev.Offset, prev)
			}
			offsets[ev.Name] = ev.Offset
		}
	}
}

// checkPayload verifies a domain event's common fields.
func (f *routeFix) checkPayload(role string, ev sioclient.Event, noPage bool) {
	t := f.r.t
	t.Helper()
	p := payload(ev)
	if ev.Offset == "" || p["eventId"] != ev.Offset {
		t.Errorf("%s: %s eventId %v, offset %q", role, ev.Name, p["eventId"], ev.Offset)
	}
	if p["type"] != ev.Name {
		t.Errorf("%s: %s carries type %v", role, ev.Name, p["type"])
	}
	if p["actorId"] != f.actor.ID {
		t.Errorf("%s: %s actorId %v, want %s", role, ev.Name, p["actorId"], f.actor.ID)
	}
	if p["driveId"] != f.wantDrive {
		t.Errorf("%s: %s driveId %v, want %s", role, ev.Name, p["driveId"], f.wantDrive)
	}
	if got := str(p["pageId"]); got != f.wantPage {
		t.Errorf("%s: %s pageId %q, want %q", role, ev.Name, got, f.wantPage)
	}
	if strings.TrimSpace(str(p["at"])) == "" {
		t.Errorf("%s: %s without at", role, ev.Name)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// TestSessionRoutes covers the writes that end sessions: logout disconnects the sockets of that
// login session only, and deleting an account disconnects all of the user's sockets; the other
// session and the drive's members receive the events meant for them, nobody else anything.
func TestSessionRoutes(t *testing.T) {
	r := start(t)
	owner, member, outsider := r.Signup("Owner"), r.Signup("Member"), r.Signup("Outsider")
	u := r.Signup("Leaver")
	d := r.CreateDrive(owner, "D")
	r.AddMember(owner, d, member, "MEMBER")
	r.AddMember(owner, d, u, "MEMBER")
	var second struct {
		AccessToken  string
		RefreshToken string
	}
	r.Do("POST", "/api/auth/login", "", map[string]string{"email": u.Email, "password": "correct horse"}).Expect(200).JSON(&second)
	u2 := u
	u2.Token, u2.RefreshToken = second.AccessToken, second.RefreshToken

	other := r.dial(u2).withBarrier() // the second login session
	watcher := r.dial(member).withBarrier()
	watcher.call("join_drive", d)
	out := r.dial(outsider).withBarrier()
	first := r.dial(u) // the session that logs out
	first.call("join_drive", d)
	for _, s := range []*sock{other, watcher, out} {
		s.sync()
	}

	r.Do("POST", "/api/auth/logout", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(204)
	ev := first.await("access_revoked")
	if p := payload(ev); p["reason"] != "logout" || p["room"] != "user:"+u.ID {
		t.Fatalf("logout revocation %v", p)
	}
	for ev := range first.Events {
		t.Errorf("logged-out socket received %s after access_revoked", ev.Name)
	}
	if first.Reason() != "io server disconnect" {
		t.Fatalf("logged-out socket: %q", first.Reason())
	}
	got := other.sync()
	if len(got) != 1 || got[0].Name != "session_ended" {
		t.Fatalf("the other session received %v", names(got))
	}
	if p := payload(got[0]); p["eventId"] != got[0].Offset || p["userId"] != u.ID || p["actorId"] != u.ID {
		t.Fatalf("session_ended %v offset %s", p, got[0].Offset)
	}
	if got := watcher.sync(); len(got) != 0 {
		t.Fatalf("a drive member received %v on another user's logout", names(got))
	}
	if got := out.sync(); len(got) != 0 {
		t.Fatalf("outsider received %v", names(got))
	}

	// Deleting the account (after the drive it owns): every socket of the user goes; the drive
	// room hears of it.
	r.Do("DELETE", "/api/drives/"+other.bdrive, u2.Token, nil).Expect(204)
	if ev := other.await("access_revoked"); payload(ev)["room"] != "page:"+other.barrier {
		t.Fatalf("barrier drive deletion: %v", payload(ev))
	}
	other.await("drive_deleted")
	third := r.dial(u2)
	third.call("join_drive", d)
	r.Do("DELETE", "/api/auth/me", u2.Token, map[string]string{"password": "correct horse"}).Expect(204)
	for _, s := range []*sock{other, third} {
		ev, err := s.Next(ctxT(t))
		if p := payload(ev); err != nil || ev.Name != "access_revoked" || p["reason"] != "user_deleted" || p["room"] != "user:"+u.ID {
			t.Fatalf("account deletion: %s %v (%v)", ev.Name, p, err)
		}
		for ev := range s.Events {
			t.Errorf("deleted user's socket received %s after access_revoked", ev.Name)
		}
	}
	// The session was checked lately (third), yet a new socket of the deleted user is refused.
	if c, err := r.Dial(ctxT(t), map[string]any{"token": u2.Token}, nil); err == nil {
		c.Close()
		t.Fatal("a deleted user's token connected")
	}
	got = watcher.sync()
	if len(got) != 1 || got[0].Name != "user_deleted" || payload(got[0])["userId"] != u.ID || payload(got[0])["eventId"] != got[0].Offset {
		t.Fatalf("drive member on account deletion: %v", names(got))
	}
	if got := out.sync(); len(got) != 0 {
		t.Fatalf("outsider received %v", names(got))
	}
}

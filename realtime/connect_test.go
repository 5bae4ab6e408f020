package realtime_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
	"github.com/pagespace/pagespace/realtime"
)

// count is how many of stmts mention every one of words.
func count(stmts []string, words ...string) int {
	n := 0
	for _, s := range stmts {
		all := true
		for _, w := range words {
			all = all && strings.Contains(s, w)
		}
		if all {
			n++
		}
	}
	return n
}

// TestConnectJoinStatements: a user's first socket reads the user's memberships and the access to
// the page it joins; a further socket of the user joining the same drive reads neither again
// (the roster keeps the memberships, the access cache the view of the drive), and a further
// socket of the same session not even the session check that names the user (checked lately):
// it only writes its recovery session. A socket of another session of the user is checked.
func TestConnectJoinStatements(t *testing.T) {
	var log apptest.Statements
	r := start(t, func(c *app.Config) { c.InstrumentDB = log.Instrument })
	u := r.Signup("Ann")
	d := r.CreateDrive(u, "D")
	doc := r.CreatePage(u, d, "DOCUMENT", "doc", "")
	other := r.CreatePage(u, d, "DOCUMENT", "other", "")

	first := log.During(func() { r.dial(u).join(doc) })
	if count(first, "drive_members") == 0 || count(first, "FROM users") != 1 {
		t.Fatalf("the first socket's statements (no memberships read?):\n%s", strings.Join(first, "\n"))
	}
	second := log.During(func() { r.dial(u).join(other) })
	var wrong []string
	for _, s := range second {
		if strings.Contains(s, "drive_members") || strings.Contains(s, "pages") || strings.Contains(s, "page_permissions") {
			wrong = append(wrong, s)
		}
	}
	if len(wrong) > 0 || count(second, "users") != 0 || count(second, "refresh_tokens") != 0 ||
		count(second, "realtime_sessions") != 2 {
		t.Fatalf("a second socket's connect and join ran %d statements:\n%s", len(second), strings.Join(second, "\n"))
	}
	var login struct{ AccessToken string }
	r.Do("POST", "/api/auth/login", "", map[string]string{"email": u.Email, "password": "correct horse"}).Expect(200).JSON(&login)
	u2 := u
	u2.Token = login.AccessToken
	third := log.During(func() { r.dial(u2) })
	if count(third, "FROM users", "refresh_tokens") != 1 {
		t.Fatalf("a socket of another session was not checked:\n%s", strings.Join(third, "\n"))
	}
}

// heldMemberships holds back the first read of one user's memberships (gate).
type heldMemberships struct {
	realtime.Access
	user atomic.Pointer[string]
	gate
}

func (h *heldMemberships) MemberDrives(ctx context.Context, userID string) ([]string, error) {
	ids, err := h.Access.MemberDrives(ctx, userID)
	u := h.user.Load()
	h.pass(ctx, u != nil && *u == userID)
	return ids, err
}

// awaitPresence waits for a presence_changed on s that shows userID viewing pageID.
func awaitPresence(t *testing.T, s *sock, userID, pageID string) {
	t.Helper()
	for {
		var p struct {
			Members []realtime.MemberPresence `json:"members"`
		}
		if err := s.await("presence_changed").Decode(0, &p); err != nil {
			t.Fatal(err)
		}
		for _, m := range p.Members {
			for _, id := range m.PageIDs {
				if m.UserID == userID && id == pageID {
					return
				}
			}
		}
	}
}

// TestMembershipDuringFirstRead: a member added while the roster reads a connecting user's
// memberships shows in the drive's presence: the read that the change overlapped is done again,
// not kept (a later socket of the user reads nothing, so a stale read would stay).
func TestMembershipDuringFirstRead(t *testing.T) {
	h := &heldMemberships{gate: newGate()}
	r := start(t, func(cfg *app.Config) {
		cfg.Realtime.WrapAccess = func(a realtime.Access) realtime.Access {
			h.Access = a
			return h
		}
	})
	t.Cleanup(h.free)
	owner, x := r.Signup("Owner"), r.Signup("X")
	d := r.CreateDrive(owner, "D")
	doc := r.CreatePage(owner, d, "DOCUMENT", "doc", "")
	watcher := r.dial(owner)
	if ack := watcher.call("join_drive", d); ack["ok"] != true {
		t.Fatalf("join_drive: %v", ack)
	}

	h.user.Store(&x.ID)
	xs := r.dial(x) // its connect reads X's memberships (none yet), held
	select {
	case <-h.entered:
	case <-ctxT(t).Done():
		t.Fatal("the memberships were never read")
	}
	r.AddMember(owner, d, x, "MEMBER") // returns once applied here
	h.free()
	xs.join(doc) // handled after the connect
	awaitPresence(t, watcher, x.ID, doc)
}

// TestCreatorInNewDrivePresence: a drive created by a user already connected counts that user as
// a member in the drive's presence.
func TestCreatorInNewDrivePresence(t *testing.T) {
	r := start(t)
	owner, m := r.Signup("Owner"), r.Signup("M")
	s := r.dial(owner)
	r.dial(owner) // a second socket: it does not read the memberships again
	d := r.CreateDrive(owner, "New")
	doc := r.CreatePage(owner, d, "DOCUMENT", "doc", "")
	r.AddMember(owner, d, m, "MEMBER")
	watcher := r.dial(m)
	if ack := watcher.call("join_drive", d); ack["ok"] != true {
		t.Fatalf("join_drive: %v", ack)
	}
	s.join(doc)
	awaitPresence(t, watcher, owner.ID, doc)
}

// TestCachedJoinFollowsAccess: a join answered from the user's cached view of the drive (no
// access query) sees the access changes applied since: a page made private is refused, a page
// created is found, a page trashed is refused.
func TestCachedJoinFollowsAccess(t *testing.T) {
	r := start(t)
	owner, u := r.Signup("Owner"), r.Signup("U")
	d := r.CreateDrive(owner, "D")
	r.AddMember(owner, d, u, "MEMBER")
	open := r.CreatePage(owner, d, "DOCUMENT", "open", "")
	secret := r.CreatePage(owner, d, "DOCUMENT", "secret", "")
	trashed := r.CreatePage(owner, d, "DOCUMENT", "trashed", "")
	s := r.dial(u)
	s.join(open) // the view of the drive is cached from here on

	r.Do("PATCH", "/api/pages/"+secret, owner.Token, map[string]any{"isPrivate": true}).Expect(200)
	r.Do("DELETE", "/api/pages/"+trashed, owner.Token, nil).Expect(204)
	fresh := r.CreatePage(owner, d, "DOCUMENT", "fresh", "")
	for _, tc := range []struct {
		page string
		ok   bool
	}{{secret, false}, {trashed, false}, {fresh, true}, {open, true}} {
		for _, sk := range []*sock{s, r.dial(u)} {
			if ack := sk.call("join_page", tc.page); ack["ok"] != tc.ok {
				t.Fatalf("join_page %s: %v, want ok %v", tc.page, ack, tc.ok)
			}
		}
	}
}

// TestConcurrentConnectsRecover: sockets that connect and join at once (their session rows
// written together) each recover their own session, rooms included; so do sockets that never
// joined a room.
func TestConcurrentConnectsRecover(t *testing.T) {
	r := start(t)
	owner := r.Signup("Owner")
	d := r.CreateDrive(owner, "D")
	const n = 16
	pages := make([]string, n)
	for i := range pages {
		pages[i] = r.CreatePage(owner, d, "CHANNEL", fmt.Sprint("chat ", i), "")
	}
	type dialed struct {
		c   *sioclient.Client
		err error
	}
	out := make([]dialed, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			c, err := r.Dial(ctxT(t), map[string]any{"token": owner.Token}, nil)
			if err == nil && i%4 != 0 { // every fourth socket joins nothing
				var ack map[string]any
				if err = c.Call(ctxT(t), &ack, "join_page", pages[i]); err == nil && ack["ok"] != true {
					err = fmt.Errorf("join_page: %v", ack)
				}
			}
			out[i] = dialed{c, err}
		})
	}
	wg.Wait()
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("socket %d: %v", i, o.err)
		}
		o.c.Close()
		<-o.c.Done
	}
	for i := range n {
		r.Do("POST", "/api/pages/"+pages[i]+"/messages", owner.Token, map[string]any{"content": fmt.Sprint("missed ", i)}).Expect(201)
	}
	for i, o := range out {
		c, err := r.Dial(ctxT(t), map[string]any{"token": owner.Token, "pid": o.c.PID, "offset": "0"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.PID != o.c.PID {
			t.Fatalf("socket %d not recovered", i)
		}
		if i%4 != 0 {
			ev, _, err := c.WaitFor(ctxT(t), "new_message")
			if err != nil {
				t.Fatal(err)
			}
			var m struct{ Message struct{ Content string } }
			_ = ev.Decode(0, &m)
			if m.Message.Content != fmt.Sprint("missed ", i) {
				t.Fatalf("socket %d replayed %q", i, m.Message.Content)
			}
		}
		c.Close()
	}
}

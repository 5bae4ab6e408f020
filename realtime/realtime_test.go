package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestConnectAuth(t *testing.T) {
	r := start(t)
	u := r.Signup("Ann")
	ctx := ctxT(t)
	_, err := r.Dial(ctx, map[string]any{"token": "garbage"}, nil)
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) || ce.Message != "unauthorized" || ce.Code() != "invalid_token" {
		t.Fatalf("bad token: %v", err)
	}
	_, err = r.Dial(ctx, nil, nil)
	if !errors.As(err, &ce) || ce.Code() != "invalid_token" {
		t.Fatalf("no auth: %v", err)
	}
	s := r.dial(u)
	if s.SID == "" || s.PID == "" {
		t.Fatalf("connect reply without sid/pid: %+v", s.Client)
	}
	// The web UI's cookie works in place of auth.token.
	ck, err := r.Dial(ctx, nil, header("Cookie", "ps_access="+u.Token, "Origin", r.URL))
	if err != nil {
		t.Fatalf("cookie auth: %v", err)
	}
	ck.Close()
	// ... but only from the server's own pages: a request of unknown origin is not trusted.
	_, err = r.Dial(ctx, nil, header("Cookie", "ps_access="+u.Token))
	if !errors.As(err, &ce) || ce.Code() != "invalid_token" {
		t.Fatalf("cookie without origin: %v", err)
	}
	// Refused origins never reach the handshake.
	_, err = r.Dial(ctx, map[string]any{"token": u.Token}, header("Origin", "https://evil.example"))
	if err == nil {
		t.Fatal("foreign origin accepted")
	}
}

func TestExpiredTokenRefused(t *testing.T) {
	r := start(t, func(c *app.Config) { c.AccessTokenTTL = 3 * time.Second })
	u := r.Signup("Exp")
	// A token that expires while connected: auth_expiring, then a disconnect the client can act on.
	s := r.dial(u)
	s.await("auth_expiring")
	ev := s.await("access_revoked")
	if p := payload(ev); p["reason"] != "token_expired" {
		t.Fatalf("expiry revocation: %v", p)
	}
	<-s.Done
	if s.Reason() != "io server disconnect" {
		t.Fatalf("reason %q", s.Reason())
	}
	_, err := r.Dial(ctxT(t), map[string]any{"token": u.Token}, nil)
	var ce *sioclient.ConnectError
	// The token is past exp; the 30 s leeway may still accept it, so only a refusal's code is checked.
	if err != nil && (!errors.As(err, &ce) || (ce.Code() != "token_expired" && ce.Code() != "invalid_token")) {
		t.Fatalf("expired token: %v", err)
	}
}

func TestRefreshAuth(t *testing.T) {
	r := start(t)
	u, other := r.Signup("Ref"), r.Signup("Other")
	s := r.dial(u)
	var sess struct{ AccessToken string }
	r.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(200).JSON(&sess)
	ack := s.call("refresh_auth", map[string]any{"token": sess.AccessToken})
	if ack["ok"] != true || ack["expiresAt"] == nil {
		t.Fatalf("refresh_auth: %v", ack)
	}
	ack = s.call("refresh_auth", map[string]any{"token": other.Token})
	if ack["ok"] != false {
		t.Fatalf("another user's token accepted: %v", ack)
	}
	ack = s.call("refresh_auth", map[string]any{"token": "bad"})
	if ack["ok"] != false {
		t.Fatalf("bad token accepted: %v", ack)
	}
}

// A refresh moves the socket's expiry: it is warned again for the new token and cut only once
// that one expires, never at the first token's expiry.
func TestRefreshMovesExpiry(t *testing.T) {
	r := start(t, func(c *app.Config) {
		c.AccessTokenTTL = 4 * time.Second
		c.Realtime.AuthExpiringLead = 3 * time.Second
	})
	u := r.Signup("Moving")
	s := r.dial(u)
	first := payload(s.await("auth_expiring"))["expiresAt"]
	var sess struct{ AccessToken string }
	r.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(200).JSON(&sess)
	ack := s.call("refresh_auth", map[string]any{"token": sess.AccessToken})
	if ack["ok"] != true {
		t.Fatalf("refresh_auth: %v", ack)
	}
	newExp, err := time.Parse(time.RFC3339Nano, ack["expiresAt"].(string))
	if err != nil || ack["expiresAt"] == first {
		t.Fatalf("refreshed expiry %v (%v), first %v", ack["expiresAt"], err, first)
	}
	if again := payload(s.await("auth_expiring"))["expiresAt"]; again != ack["expiresAt"] {
		t.Fatalf("warned for %v, want the refreshed token's %v", again, ack["expiresAt"])
	}
	if p := payload(s.await("access_revoked")); p["reason"] != "token_expired" {
		t.Fatalf("expiry revocation: %v", p)
	}
	if now := time.Now(); now.Before(newExp) {
		t.Fatalf("cut at %v, before the refreshed token's expiry %v", now, newExp)
	}
}

func TestLogoutDisconnectsSession(t *testing.T) {
	r := start(t)
	u := r.Signup("Out")
	s := r.dial(u)
	r.Do("POST", "/api/auth/logout", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(204)
	// The kick happened before logout returned: the socket is already told.
	ev := s.await("access_revoked")
	if payload(ev)["reason"] != "logout" {
		t.Fatalf("logout revocation %v", payload(ev))
	}
	<-s.Done
}

func TestPageEventsReachRooms(t *testing.T) {
	r := start(t)
	owner, member, outsider := r.Signup("Owner"), r.Signup("Member"), r.Signup("Outsider")
	d := r.CreateDrive(owner, "Team")
	r.AddMember(owner, d, member, "MEMBER")
	doc := r.CreatePage(owner, d, "DOCUMENT", "Doc", "")

	inDrive := r.dial(member).withBarrier()
	if ack := inDrive.call("join_drive", d); ack["ok"] != true {
		t.Fatalf("join_drive: %v", ack)
	}
	inPage := r.dial(owner).withBarrier()
	ack := inPage.join(doc)
	if vs, _ := ack["viewers"].([]any); len(vs) != 1 {
		t.Fatalf("join_page viewers %v", ack)
	}
	out := r.dial(outsider).withBarrier()
	if ack := out.call("join_page", doc); ack["ok"] != false {
		t.Fatalf("outsider joined: %v", ack)
	}
	if ack := out.call("join_drive", d); ack["ok"] != false {
		t.Fatalf("outsider joined drive: %v", ack)
	}

	res := r.Do("PATCH", "/api/pages/"+doc, member.Token, map[string]any{"title": "Renamed"}).Expect(200)
	_ = res
	ev := inPage.await("page_updated")
	p := payload(ev)
	if p["pageId"] != doc || p["eventId"] != ev.Offset || ev.Offset == "" || p["actorId"] != member.ID {
		t.Fatalf("page_updated %v offset %q", p, ev.Offset)
	}
	if ev2 := inDrive.await("page_updated"); ev2.Offset != ev.Offset {
		t.Fatalf("drive room got %s, page room %s", ev2.Offset, ev.Offset)
	}
	if got := out.sync(); len(got) != 0 {
		t.Fatalf("outsider received %v", names(got))
	}

	// The same event is in the log for REST clients, with the same payload.
	var list struct {
		Items []struct {
			EventID string
			Type    string
		}
	}
	r.Do("GET", "/api/events?after=0&limit=200", member.Token, nil).Expect(200).JSON(&list)
	found := false
	for _, it := range list.Items {
		found = found || (it.EventID == ev.Offset && it.Type == "page_updated")
	}
	if !found {
		t.Fatalf("event %s not in /api/events", ev.Offset)
	}

	// Messages reach the channel's room.
	ch := r.CreatePage(owner, d, "CHANNEL", "chat", "")
	inPage.join(ch)
	r.Do("POST", "/api/pages/"+ch+"/messages", member.Token, map[string]any{"content": "hi"}).Expect(201)
	if m := payload(inPage.await("new_message")); m["pageId"] != ch {
		t.Fatalf("new_message %v", m)
	}
}

func TestPrivatePageNeverLeaks(t *testing.T) {
	r := start(t)
	owner, member := r.Signup("Own"), r.Signup("Mem")
	d := r.CreateDrive(owner, "D")
	r.AddMember(owner, d, member, "MEMBER")
	secret := r.CreatePage(owner, d, "DOCUMENT", "Secret plans", "")
	r.Do("PATCH", "/api/pages/"+secret, owner.Token, map[string]any{"isPrivate": true}).Expect(200)

	m := r.dial(member).withBarrier()
	m.call("join_drive", d)
	o := r.dial(owner).withBarrier()
	o.call("join_drive", d)
	if ack := m.call("join_page", secret); ack["ok"] != false {
		t.Fatalf("member joined a private page: %v", ack)
	}
	r.Do("PATCH", "/api/pages/"+secret, owner.Token, map[string]any{"title": "More secret"}).Expect(200)
	child := r.CreatePage(owner, d, "DOCUMENT", "Secret child", secret)
	o.await("page_updated")
	o.await("page_created")
	for _, ev := range m.sync() {
		if strings.Contains(string(ev.Args[0]), "ecret") || pageIDOf(ev) == secret || pageIDOf(ev) == child {
			t.Fatalf("member received %s about the private page: %s", ev.Name, ev.Args[0])
		}
	}
}

func TestRevocationKicksAndStopsDelivery(t *testing.T) {
	r := start(t)
	owner, member := r.Signup("Boss"), r.Signup("Temp")
	d := r.CreateDrive(owner, "D")
	r.AddMember(owner, d, member, "MEMBER")
	ch := r.CreatePage(owner, d, "CHANNEL", "chat", "")
	m := r.dial(member)
	m.join(ch)
	m.call("join_drive", d)

	// A stream of writes runs while the member is removed.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			r.Do("POST", "/api/pages/"+ch+"/messages", owner.Token, map[string]any{"content": "msg " + strconv.Itoa(i)})
		}
	}()
	m.await("new_message")
	res := r.Do("DELETE", "/api/drives/"+d+"/members/"+member.ID, owner.Token, nil).Expect(204)
	_ = res
	close(stop)
	wg.Wait()
	// The revocation's own event id, from the log.
	var list struct {
		Items []struct{ EventID, Type string }
	}
	r.Do("GET", "/api/events?limit=200", owner.Token, nil).Expect(200).JSON(&list)
	var revokedAt int64
	for _, it := range list.Items {
		if it.Type == "member_removed" {
			revokedAt, _ = strconv.ParseInt(it.EventID, 10, 64)
		}
	}
	if revokedAt == 0 {
		t.Fatal("no member_removed in the log")
	}
	// Everything the member got: nothing after the revocation, and access_revoked for both rooms.
	m2 := &sock{Client: m.Client, r: r, u: member}
	revoked := map[string]bool{}
	deadline := ctxT(t)
	for len(revoked) < 2 {
		ev, err := m2.Next(deadline)
		if err != nil {
			t.Fatalf("waiting for access_revoked (got %v): %v", revoked, err)
		}
		if ev.Offset != "" {
			id, _ := strconv.ParseInt(ev.Offset, 10, 64)
			if id > revokedAt {
				t.Fatalf("revoked socket received %s %d after revocation %d", ev.Name, id, revokedAt)
			}
		}
		if ev.Name == "access_revoked" {
			revoked[payload(ev)["room"].(string)] = true
		}
	}
	if !revoked["page:"+ch] || !revoked["drive:"+d] {
		t.Fatalf("revoked rooms %v", revoked)
	}
	// Later writes do not reach it; a barrier on its own page proves the order.
	m.withBarrier()
	r.Do("POST", "/api/pages/"+ch+"/messages", owner.Token, map[string]any{"content": "after"}).Expect(201)
	for _, ev := range m.sync() {
		if ev.Name == "new_message" {
			t.Fatalf("message after revocation delivered: %s", ev.Args[0])
		}
	}
	if ack := m.call("join_page", ch); ack["ok"] != false {
		t.Fatalf("rejoin after removal: %v", ack)
	}
}

func TestPresenceTwoTabs(t *testing.T) {
	r := start(t)
	a, b := r.Signup("Alice"), r.Signup("Bob")
	d := r.CreateDrive(a, "D")
	r.AddMember(a, d, b, "MEMBER")
	p := r.CreatePage(a, d, "DOCUMENT", "Doc", "")
	tab1, tab2 := r.dial(a), r.dial(a)
	tab1.join(p)
	tab2.join(p)
	bob := r.dial(b).withBarrier()
	ack := bob.join(p)
	if vs, _ := ack["viewers"].([]any); len(vs) != 2 {
		t.Fatalf("viewers with two tabs of one user and another user: %v", ack["viewers"])
	}
	// Closing one tab keeps Alice.
	tab1.Close()
	r.waitConnections(2)
	for _, ev := range bob.sync() {
		if ev.Name == "viewers_updated" && pageIDOf(ev) == p && len(payload(ev)["viewers"].([]any)) != 2 {
			t.Fatalf("closing one of two tabs changed the viewers: %s", ev.Args[0])
		}
	}
	// Leaving with the last tab removes her.
	tab2.call("leave_page", p)
	for {
		ev := bob.await("viewers_updated")
		if pageIDOf(ev) != p {
			continue
		}
		vs := payload(ev)["viewers"].([]any)
		if len(vs) != 1 || vs[0].(map[string]any)["userId"] != b.ID {
			t.Fatalf("after both tabs left: %v", vs)
		}
		break
	}
}

func TestTypingAndCursors(t *testing.T) {
	r := start(t, func(c *app.Config) { c.Realtime.TypingTimeout = 200 * time.Millisecond })
	a, b := r.Signup("Typer"), r.Signup("Watcher")
	d := r.CreateDrive(a, "D")
	r.AddMember(a, d, b, "MEMBER")
	p := r.CreatePage(a, d, "DOCUMENT", "Doc", "")
	ta, tb := r.dial(a), r.dial(b)
	ta.join(p)
	tb.join(p)
	if ack := ta.call("typing_start", map[string]any{"pageId": p}); ack["ok"] != true {
		t.Fatalf("typing_start %v", ack)
	}
	ev := tb.await("user_typing")
	if payload(ev)["userId"] != a.ID || payload(ev)["name"] != "Typer" {
		t.Fatalf("user_typing %v", payload(ev))
	}
	// No typing_stop: it stops by itself.
	ev = tb.await("user_stopped_typing")
	if payload(ev)["userId"] != a.ID {
		t.Fatalf("user_stopped_typing %v", payload(ev))
	}
	for i := range 10 {
		if ack := ta.call("cursor_move", map[string]any{"pageId": p, "position": i}); ack["ok"] != true {
			t.Fatalf("cursor_move %v", ack)
		}
	}
	// Coalesced: the last position always arrives.
	for {
		ev := tb.await("cursor_moved")
		if payload(ev)["position"] == float64(9) {
			break
		}
	}
	if ack := ta.call("cursor_move", map[string]any{"pageId": "nope", "position": 1}); ack["ok"] != false {
		t.Fatalf("cursor outside a joined page: %v", ack)
	}
	if ack := ta.call("typing_start", 42); ack["ok"] != false {
		t.Fatalf("bad typing_start args: %v", ack)
	}
}

func TestRecoveryAfterDroppedTransport(t *testing.T) {
	r := start(t)
	u, w := r.Signup("Rec"), r.Signup("Writer")
	d := r.CreateDrive(u, "D")
	r.AddMember(u, d, w, "MEMBER")
	ch := r.CreatePage(u, d, "CHANNEL", "chat", "")
	s := r.dial(u)
	s.join(ch)
	r.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": "before"}).Expect(201)
	first := s.await("new_message")
	s.Close()
	<-s.Done
	for i := range 5 {
		r.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": fmt.Sprint("missed ", i)}).Expect(201)
	}
	c, err := r.Dial(ctxT(t), map[string]any{"token": u.Token, "pid": s.PID, "offset": first.Offset}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.PID != s.PID {
		t.Fatalf("not recovered: pid %q, was %q", c.PID, s.PID)
	}
	prev, _ := strconv.ParseInt(first.Offset, 10, 64)
	for i := range 5 {
		ev, _, err := c.WaitFor(ctxT(t), "new_message")
		if err != nil {
			t.Fatal(err)
		}
		id, _ := strconv.ParseInt(ev.Offset, 10, 64)
		if id <= prev {
			t.Fatalf("replay out of order or duplicated: %d after %d", id, prev)
		}
		prev = id
		var m struct {
			Message struct{ Content string }
		}
		_ = ev.Decode(0, &m)
		if m.Message.Content != fmt.Sprint("missed ", i) {
			t.Fatalf("replayed %q, want missed %d", m.Message.Content, i)
		}
	}
	// The room was restored: live events continue.
	r.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": "live"}).Expect(201)
	ev, _, err := c.WaitFor(ctxT(t), "new_message")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := strconv.ParseInt(ev.Offset, 10, 64); id != prev+1 {
		t.Fatalf("live event %d after replay up to %d", id, prev)
	}
	// Someone else's pid is not recovered.
	o := r.Signup("Thief")
	c2, err := r.Dial(ctxT(t), map[string]any{"token": o.Token, "pid": s.PID, "offset": "0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if c2.PID == s.PID {
		t.Fatal("another user's pid was recovered")
	}
}

func TestRecoveryAcrossRestart(t *testing.T) {
	cfg := apptest.Config(t)
	env1 := apptest.StartWith(t, cfg)
	r1 := &rt{Env: env1, t: t}
	u, w := r1.Signup("Persist"), r1.Signup("W")
	d := r1.CreateDrive(u, "D")
	r1.AddMember(u, d, w, "MEMBER")
	ch := r1.CreatePage(u, d, "CHANNEL", "chat", "")
	s := r1.dial(u)
	s.join(ch)
	r1.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": "one"}).Expect(201)
	first := s.await("new_message")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := env1.App.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	<-s.Done
	if s.Reason() != "transport close" {
		t.Fatalf("shutdown must drop the transport without DISCONNECT, got %q", s.Reason())
	}
	env2 := apptest.StartWith(t, cfg)
	r2 := &rt{Env: env2, t: t}
	r2.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": "two"}).Expect(201)
	c, err := env2.Dial(ctxT(t), map[string]any{"token": u.Token, "pid": s.PID, "offset": first.Offset}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.PID != s.PID {
		t.Fatal("not recovered after restart")
	}
	ev, _, err := c.WaitFor(ctxT(t), "new_message")
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Message struct{ Content string } }
	_ = ev.Decode(0, &m)
	if m.Message.Content != "two" {
		t.Fatalf("replayed %q", m.Message.Content)
	}
}

func TestLimitsAndValidation(t *testing.T) {
	r := start(t, func(c *app.Config) {
		c.Realtime.MaxConnsPerUser = 2
		c.Realtime.MaxRoomsPerConn = 2
		c.Realtime.EventRate, c.Realtime.EventBurst = 5, 5
	})
	u := r.Signup("Lim")
	d := r.CreateDrive(u, "D")
	p1, p2, p3 := r.CreatePage(u, d, "DOCUMENT", "1", ""), r.CreatePage(u, d, "DOCUMENT", "2", ""), r.CreatePage(u, d, "DOCUMENT", "3", "")
	s := r.dial(u)
	r.dial(u)
	_, err := r.Dial(ctxT(t), map[string]any{"token": u.Token}, nil)
	var ce *sioclient.ConnectError
	if !errors.As(err, &ce) || ce.Code() != "too_many_connections" {
		t.Fatalf("third connection: %v", err)
	}
	s.join(p1)
	s.join(p2)
	if ack := s.call("join_page", p3); ack["ok"] != false || ack["error"].(map[string]any)["code"] != "too_many_rooms" {
		t.Fatalf("third room: %v", ack)
	}
	for _, args := range [][]any{{}, {42}, {map[string]any{"x": 1}}, {strings.Repeat("x", 100)}} {
		ack := s.call("join_page", args...)
		if ack["ok"] != false || ack["error"].(map[string]any)["code"] == "" {
			t.Fatalf("join_page %v: %v", args, ack)
		}
	}
	limited := false
	for range 20 {
		ack := s.call("leave_page", "whatever")
		if ack["ok"] == false && ack["error"].(map[string]any)["code"] == "rate_limited" {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("no rate limit")
	}
}

func TestMetrics(t *testing.T) {
	r := start(t)
	u := r.Signup("M")
	r.dial(u)
	resp, err := http.Get(r.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"pagespace_realtime_connections 1", "pagespace_realtime_deliveries_total", "pagespace_realtime_dropped_sockets_total"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestGrantExpiryRevokes(t *testing.T) {
	r := start(t)
	owner, guest := r.Signup("Sharer"), r.Signup("Guest")
	d := r.CreateDrive(owner, "D")
	p := r.CreatePage(owner, d, "DOCUMENT", "Shared for a moment", "")
	exp := time.Now().Add(2 * time.Second).UTC().Format(time.RFC3339Nano)
	r.Do("PUT", "/api/pages/"+p+"/permissions/"+guest.ID, owner.Token,
		map[string]any{"canView": true, "canEdit": false, "canShare": false, "canDelete": false, "expiresAt": exp}).Expect(201)
	g := r.dial(guest)
	g.join(p)
	// Nothing is written when a grant expires, yet the socket must leave the room.
	ev := g.await("access_revoked")
	if pl := payload(ev); pl["room"] != "page:"+p || pl["reason"] != "permission_expired" {
		t.Fatalf("expiry revocation %v", pl)
	}
	if ack := g.call("join_page", p); ack["ok"] != false {
		t.Fatalf("rejoined after expiry: %v", ack)
	}
}

// The per-user connection limit holds however quickly the dials follow each other: the slot is
// taken in the middleware, before the CONNECT reply (a client can dial again before OnConnect
// has run), and given back by a socket that ends, connected or not. The window between the
// reply and OnConnect is narrow, so a regression shows here only now and then (it was caught by
// TestLimitsAndValidation once the WebSocket upgrade stopped holding the request goroutine).
func TestConnectionLimitForQuickDials(t *testing.T) {
	r := start(t, func(c *app.Config) { c.Realtime.MaxConnsPerUser = 2 })
	u := r.Signup("Racer")
	ctx := ctxT(t)
	dial := func() (*sioclient.Client, error) {
		return r.Dial(ctx, map[string]any{"token": u.Token}, nil)
	}
	refused := func(err error) bool {
		var ce *sioclient.ConnectError
		return errors.As(err, &ce) && ce.Code() == "too_many_connections"
	}
	for round := range 10 {
		var open []*sioclient.Client
		for len(open) < 2 { // the previous round's sockets may not be gone yet
			c, err := dial()
			switch {
			case err == nil:
				open = append(open, c)
			case !refused(err) || ctx.Err() != nil:
				t.Fatalf("round %d: dial: %v", round, err)
			}
		}
		c, err := dial()
		if err == nil {
			c.Close()
			t.Fatalf("round %d: a third connection was accepted", round)
		}
		if !refused(err) {
			t.Fatalf("round %d: third dial: %v", round, err)
		}
		for _, c := range open {
			c.Close()
		}
	}

	// Concurrent dials: exactly the limit gets in.
	const n = 8
	type result struct {
		c   *sioclient.Client
		err error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			c, err := dial()
			results <- result{c, err}
		}()
	}
	connected := 0
	for range n {
		res := <-results
		switch {
		case res.err == nil:
			connected++
			t.Cleanup(func() { res.c.Close() })
		case !refused(res.err):
			t.Fatalf("dial: %v", res.err)
		}
	}
	if connected > 2 {
		t.Fatalf("%d of %d concurrent dials connected, limit 2", connected, n)
	}
}

// An offset older than the session (a client keeps the last offset of an earlier session it
// could not recover) replays only what this session missed, never events from before it began.
func TestRecoveryIgnoresOffsetsBeforeTheSession(t *testing.T) {
	r := start(t)
	u, w := r.Signup("Rec"), r.Signup("Writer")
	d := r.CreateDrive(u, "D")
	r.AddMember(u, d, w, "MEMBER")
	ch := r.CreatePage(u, d, "CHANNEL", "chat", "")
	// A write returns once its events are queued for dispatch, not dispatched: a socket that
	// connects before the dispatcher reaches the message would get it live, as part of its
	// session. The writer's own socket receiving it shows it was dispatched before the session.
	ws := r.dial(w)
	ws.join(ch)
	r.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": "before the session"}).Expect(201)
	if _, _, err := ws.WaitFor(ctxT(t), "new_message"); err != nil {
		t.Fatal(err)
	}
	s := r.dial(u)
	s.join(ch)
	s.Close()
	<-s.Done
	r.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": "missed"}).Expect(201)
	c, err := r.Dial(ctxT(t), map[string]any{"token": u.Token, "pid": s.PID, "offset": "0"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.PID != s.PID {
		t.Fatalf("not recovered: pid %q, was %q", c.PID, s.PID)
	}
	ev, _, err := c.WaitFor(ctxT(t), "new_message")
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Message struct{ Content string } }
	_ = ev.Decode(0, &m)
	if m.Message.Content != "missed" {
		t.Fatalf("first replayed message %q, want only what the session missed", m.Message.Content)
	}
}

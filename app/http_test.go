package app_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

func TestSecurityHeaders(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Headers")
	for _, tc := range []struct {
		path, token string
		status      int
	}{
		{"/", "", 200},
		{"/static/app.css", "", 200},
		{"/static/js/app.js", "", 200},
		{"/d/some-drive", "", 200},
		{"/api/auth/me", u.Token, 200},
		{"/api/auth/me", "", 401},
		{"/nope", "", 404},
		{"/socket.io/?EIO=4&transport=polling", "", 200},
	} {
		r := env.Do("GET", tc.path, tc.token, nil).Expect(tc.status)
		for h, want := range map[string]string{
			"Content-Security-Policy": "default-src 'self'; script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		} {
			if got := r.Header.Get(h); got != want {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, h, got, want)
			}
		}
	}
	// The policy allows no inline script or style: the page must not need any.
	page := strings.ToLower(string(env.Do("GET", "/", "", nil).Body))
	for _, inline := range []string{"<style", " style=", "<script>", "javascript:", " onload=", " onclick="} {
		if strings.Contains(page, inline) {
			t.Errorf("the landing page has inline %q, which the CSP blocks", inline)
		}
	}
	if ct := env.Do("GET", "/static/app.css", "", nil).Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/css") {
		t.Errorf("stylesheet served as %q", ct)
	}
}

// shortTimeouts makes every server read timeout tiny, and the Engine.IO heartbeat longer than all
// of them, so that a long-poll or WebSocket that gets its ping has outlived the timeouts.
func shortTimeouts(c *app.Config) {
	c.ReadHeaderTimeout = 50 * time.Millisecond
	c.ReadBodyTimeout = 50 * time.Millisecond
	c.IdleTimeout = 50 * time.Millisecond
	c.Realtime.PingInterval = time.Second
}

// readUntilClosed reads the connection until the server closes it and returns what it sent. The
// deadline only keeps a broken server from hanging the test.
func readUntilClosed(t *testing.T, conn net.Conn) string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server kept the connection open (got %q)", got)
	}
	return string(got)
}

func TestSlowClientsAreCut(t *testing.T) {
	env := apptest.Start(t, shortTimeouts)
	addr := strings.TrimPrefix(env.URL, "http://")
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return conn
	}
	var open struct {
		SID string `json:"sid"`
	}
	r := env.Do("GET", "/socket.io/?EIO=4&transport=polling", "", nil).Expect(200)
	if err := json.Unmarshal(r.Body[1:], &open); err != nil || open.SID == "" {
		t.Fatalf("handshake: %s", r.Body)
	}

	t.Run("body never arrives (REST)", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":")
		got := readUntilClosed(t, conn)
		if !strings.HasPrefix(got, "HTTP/1.1 408 ") || !strings.Contains(got, `"request_timeout"`) {
			t.Fatalf("answer %q, want 408 request_timeout", got)
		}
	})
	t.Run("body never arrives (polling POST)", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "POST /socket.io/?EIO=4&transport=polling&sid="+open.SID+" HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n4")
		readUntilClosed(t, conn)
	})
	t.Run("headers never end", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
		readUntilClosed(t, conn)
	})
	t.Run("idle keep-alive connection", func(t *testing.T) {
		conn := dial()
		io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("status %d, close %v", resp.StatusCode, resp.Close)
		}
		readUntilClosed(t, conn)
	})
}

// pollClient talks Engine.IO long-polling without keep-alive, so that the tiny idle timeout never
// closes a pooled connection under a request.
type pollClient struct {
	t   *testing.T
	url string
	c   *http.Client
}

func newPollClient(t *testing.T, env *apptest.Env) *pollClient {
	return &pollClient{t: t, url: env.URL + "/socket.io/?EIO=4&transport=polling",
		c: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}}
}

func (p *pollClient) do(method, sid, body string) (int, string) {
	p.t.Helper()
	u := p.url
	if sid != "" {
		u += "&sid=" + sid
	}
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	resp, err := p.c.Do(req)
	if err != nil {
		p.t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (p *pollClient) handshake() string {
	p.t.Helper()
	status, body := p.do("GET", "", "")
	var open struct {
		SID string `json:"sid"`
	}
	if status != 200 || json.Unmarshal([]byte(body[1:]), &open) != nil {
		p.t.Fatalf("handshake: %d %s", status, body)
	}
	return open.SID
}

func TestLongPollOutlivesReadTimeouts(t *testing.T) {
	env := apptest.Start(t, shortTimeouts)
	u := env.Signup("Poller")
	p := newPollClient(t, env)
	sid := p.handshake()
	if status, body := p.do("POST", sid, `40{"token":"`+u.Token+`"}`); status != 200 || body != "ok" {
		t.Fatalf("connect: %d %s", status, body)
	}
	if status, body := p.do("GET", sid, ""); status != 200 || !strings.HasPrefix(body, "40{") {
		t.Fatalf("connect reply: %d %s", status, body)
	}
	// Nothing is queued now: this GET waits for the ping, a whole PingInterval, far past the
	// header, body and idle timeouts.
	if status, body := p.do("GET", sid, ""); status != 200 || body != "2" {
		t.Fatalf("long-poll: %d %q, want the ping", status, body)
	}
	if status, body := p.do("POST", sid, "3"); status != 200 || body != "ok" {
		t.Fatalf("pong: %d %s", status, body)
	}
}

func TestWebSocketOutlivesReadTimeouts(t *testing.T) {
	env := apptest.Start(t, shortTimeouts)
	u := env.Signup("Socket")
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(env.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	read := func() string {
		t.Helper()
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		return string(b)
	}
	if m := read(); !strings.HasPrefix(m, "0{") {
		t.Fatalf("open packet %q", m)
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`40{"token":"`+u.Token+`"}`)); err != nil {
		t.Fatal(err)
	}
	if m := read(); !strings.HasPrefix(m, "40{") {
		t.Fatalf("connect reply %q", m)
	}
	// Two heartbeats, each a PingInterval apart, far past every read timeout.
	for i := 0; i < 2; i++ {
		if m := read(); m != "2" {
			t.Fatalf("ping %d: %q", i, m)
		}
		if err := ws.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
			t.Fatal(err)
		}
	}
}

func TestUnauthenticatedSessionsPerAddressAreCapped(t *testing.T) {
	const max = 3
	env := apptest.Start(t, func(c *app.Config) { c.Realtime.MaxUnauthenticatedPerAddr = max })
	u := env.Signup("Capped")
	p := newPollClient(t, env)
	sids := make([]string, max)
	for i := range sids {
		sids[i] = p.handshake()
	}
	refused := func(what string) {
		t.Helper()
		status, body := p.do("GET", "", "")
		want := `{"code":4,"message":"Too many unauthenticated sessions from this address"}`
		if status != http.StatusTooManyRequests || body != want {
			t.Fatalf("%s: %d %s, want 429 %s", what, status, body, want)
		}
		_, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(env.URL, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
		if err == nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("%s over WebSocket: %v %v", what, err, resp)
		}
	}
	refused("session over the cap")

	// A session that authenticates no longer counts against its address.
	if status, body := p.do("POST", sids[0], `40{"token":"`+u.Token+`"}`); status != 200 || body != "ok" {
		t.Fatalf("connect: %d %s", status, body)
	}
	if status, body := p.do("GET", sids[0], ""); status != 200 || !strings.HasPrefix(body, "40{") {
		t.Fatalf("connect reply: %d %s", status, body)
	}
	sids[0] = p.handshake()
	refused("over the cap again")

	// Nor does one that closed; a failed authentication keeps counting.
	if status, _ := p.do("POST", sids[1], `40{"token":"bogus"}`); status != 200 {
		t.Fatalf("bad connect: %d", status)
	}
	if status, body := p.do("GET", sids[1], ""); status != 200 || !strings.HasPrefix(body, "44") {
		t.Fatalf("bad connect reply: %d %s", status, body)
	}
	refused("after a failed authentication")
	if status, _ := p.do("POST", sids[2], "1"); status != 200 {
		t.Fatalf("close: %d", status)
	}
	p.handshake()
}

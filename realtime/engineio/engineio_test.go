package engineio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pagespace/pagespace/realtime/engineio"
)

func TestHandshakePolling(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond}, rec)
	status, body, hdr := e.do(t, http.MethodGet, "EIO=4&transport=polling", "", nil)
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	o := parseOpen(t, body)
	if len(o.SID) < 16 || fmt.Sprint(o.Upgrades) != "[websocket]" || o.PingInterval != 300 || o.PingTimeout != 200 || o.MaxPayload != 1_000_000 {
		t.Errorf("open packet %+v", o)
	}
	c := rec.open(t)
	if c.ID() != o.SID || c.Transport() != "polling" || c.Request() == nil {
		t.Errorf("conn %s %s", c.ID(), c.Transport())
	}
	if e.srv.Count() != 1 {
		t.Errorf("Count %d", e.srv.Count())
	}
	if sid2 := e.handshake(t); sid2 == o.SID {
		t.Error("sid reused")
	}
}

func TestHandshakeWebSocket(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{}, rec)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	typ, s := read(t, ws)
	o := parseOpen(t, s)
	if typ != websocket.TextMessage || o.Upgrades == nil || len(o.Upgrades) != 0 || o.PingInterval != 25000 || o.PingTimeout != 20000 {
		t.Errorf("open packet %q", s)
	}
	c := rec.open(t)
	if c.ID() != o.SID || c.Transport() != "websocket" {
		t.Errorf("conn %s %s", c.ID(), c.Transport())
	}
	ws.Close()
	rec.wantClose(t, engineio.ReasonTransportClose)
}

// The handshake request serves the checks that admit a session; an admitted or closed session
// lets it go, so that an idle connection does not hold its headers.
func TestRequestKeptUntilAdmitted(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{}, rec)
	hdr := http.Header{"X-Probe": {"kept"}}
	ws, _, err := e.dial(t, "EIO=4&transport=websocket&q=1", hdr)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	c := rec.open(t)
	r := c.Request()
	if r == nil || r.Header.Get("X-Probe") != "kept" || r.URL.Query().Get("q") != "1" {
		t.Fatalf("handshake request %+v", r)
	}
	c.Admit()
	if c.Request() != nil {
		t.Fatal("request kept after Admit")
	}

	e.handshake(t)
	polling := rec.open(t)
	if polling.Request() == nil {
		t.Fatal("no request before Admit")
	}
	polling.Close(engineio.ReasonForcedClose)
	if polling.Request() != nil {
		t.Fatal("request kept after close")
	}
}

func TestBadRequests(t *testing.T) {
	e := start(t, engineio.Config{}, engineio.EchoHandler{})
	sid := e.handshake(t)
	wsHdr := http.Header{"Connection": {"Upgrade"}, "Upgrade": {"websocket"}, "Sec-Websocket-Version": {"13"}, "Sec-Websocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}}
	for _, tc := range []struct {
		name, method, query string
		hdr                 http.Header
		status, code        int
	}{
		{"no EIO", "GET", "transport=polling", nil, 400, engineio.CodeUnsupportedVersion},
		{"EIO 3", "GET", "EIO=3&transport=polling", nil, 400, engineio.CodeUnsupportedVersion},
		{"EIO abc", "GET", "EIO=abc&transport=polling", nil, 400, engineio.CodeUnsupportedVersion},
		{"no transport", "GET", "EIO=4", nil, 400, engineio.CodeTransportUnknown},
		{"bad transport", "GET", "EIO=4&transport=abc", nil, 400, engineio.CodeTransportUnknown},
		{"unknown sid", "GET", "EIO=4&transport=polling&sid=nope", nil, 400, engineio.CodeUnknownSID},
		{"unknown sid post", "POST", "EIO=4&transport=polling&sid=nope", nil, 400, engineio.CodeUnknownSID},
		{"handshake POST", "POST", "EIO=4&transport=polling", nil, 400, engineio.CodeBadHandshakeMethod},
		{"handshake PUT", "PUT", "EIO=4&transport=polling", nil, 400, engineio.CodeBadHandshakeMethod},
		{"PUT on session", "PUT", "EIO=4&transport=polling&sid=" + sid, nil, 400, engineio.CodeBadRequest},
		{"websocket without upgrade", "GET", "EIO=4&transport=websocket", nil, 400, engineio.CodeBadRequest},
		{"websocket unknown sid", "GET", "EIO=4&transport=websocket&sid=nope", wsHdr, 400, engineio.CodeUnknownSID},
		{"foreign origin", "GET", "EIO=4&transport=polling", http.Header{"Origin": {"http://evil.example"}}, 403, engineio.CodeForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := e.do(t, tc.method, tc.query, "", tc.hdr)
			var got struct {
				Code    int    `json:"code"`
				Message string `json:"message"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("body %q: %v", body, err)
			}
			if status != tc.status || got.Code != tc.code || got.Message == "" {
				t.Errorf("got %d %s, want %d code %d", status, body, tc.status, tc.code)
			}
		})
	}
	// None of the failures above touched the session.
	if status, body := e.post(t, sid, "4still here"); status != 200 || body != "ok" {
		t.Fatalf("post: %d %s", status, body)
	}
	if status, body := e.get(t, sid); status != 200 || body != "4still here" {
		t.Fatalf("get: %d %q", status, body)
	}
}

func TestPollingEchoBatchAndBinary(t *testing.T) {
	rec := newRecorder(t, true)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	if status, body := e.post(t, sid, "4hello\x1e4wörld\x1ebAQIDBA=="); status != 200 || body != "ok" {
		t.Fatalf("post: %d %s", status, body)
	}
	if status, body := e.get(t, sid); status != 200 || body != "4hello\x1e4wörld\x1ebAQIDBA==" {
		t.Fatalf("get: %d %q", status, body)
	}
	want := []engineio.Message{{Data: []byte("hello")}, {Data: []byte("wörld")}, {Binary: true, Data: []byte{1, 2, 3, 4}}}
	for _, w := range want {
		if m := rec.msg(t); m.Binary != w.Binary || string(m.Data) != string(w.Data) {
			t.Errorf("message %+v, want %+v", m, w)
		}
	}

	// A GET waits for the server to send.
	c := rec.open(t)
	got := make(chan string, 1)
	go func() {
		_, body := e.get(t, sid)
		got <- body
	}()
	if err := c.Send(engineio.Message{Data: []byte("x")}, engineio.Message{Binary: true, Data: []byte{0xff}}); err != nil {
		t.Fatal(err)
	}
	select {
	case body := <-got:
		// The GET may have been answered after the first Send already; Send queues contiguously.
		if body != "4x\x1eb/w==" {
			t.Fatalf("get: %q", body)
		}
	case <-time.After(wait):
		t.Fatal("GET not answered")
	}
}

func TestPollingInvalidPayloadCloses(t *testing.T) {
	for _, body := range []string{"abc", "", "4ok\x1e9", "bnot base64!", "4\xff\xfe", "2"} {
		t.Run(fmt.Sprintf("%q", body), func(t *testing.T) {
			rec := newRecorder(t, false)
			e := start(t, engineio.Config{}, rec)
			sid := e.handshake(t)
			if status, _ := e.post(t, sid, body); status != 400 {
				t.Errorf("post status %d", status)
			}
			if status, _ := e.get(t, sid); status != 400 {
				t.Errorf("get status %d", status)
			}
			e0 := rec.closed(t)
			if e0.reason != engineio.ReasonParseError && e0.reason != engineio.ReasonTransportError {
				t.Errorf("reason %q", e0.reason)
			}
		})
	}
}

func TestPollingOctetStreamRefused(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	status, _, _ := e.do(t, http.MethodPost, "EIO=4&transport=polling&sid="+sid, "4hi", http.Header{"Content-Type": {"application/octet-stream"}})
	if status != 400 {
		t.Errorf("status %d", status)
	}
	rec.wantClose(t, engineio.ReasonTransportError)
}

func TestPollingConcurrentGetCloses(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	type res struct {
		status int
		body   string
	}
	results := make(chan res, 2)
	for range 2 {
		go func() {
			s, b := e.get(t, sid)
			results <- res{s, b}
		}()
	}
	// No packet is ever queued, so the two GETs overlap: the second is refused and the first
	// ends with a close packet.
	var got []res
	for range 2 {
		select {
		case r := <-results:
			got = append(got, r)
		case <-time.After(wait):
			t.Fatal("GET not answered")
		}
	}
	ok := (got[0] == res{200, "1"} && got[1].status == 400) || (got[1] == res{200, "1"} && got[0].status == 400)
	if !ok {
		t.Fatalf("results %+v", got)
	}
	rec.wantClose(t, engineio.ReasonTransportError)
	if status, _ := e.get(t, sid); status != 400 {
		t.Fatalf("after close: %d", status)
	}
}

func TestPollingServerCloseAnswersGet(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	c := rec.open(t)
	got := make(chan string, 1)
	go func() {
		_, body := e.get(t, sid)
		got <- body
	}()
	if err := c.Send(engineio.Message{Data: []byte("bye")}); err != nil {
		t.Fatal(err)
	}
	c.Close("kicked")
	c.Close("twice")
	rec.wantClose(t, "kicked")
	if err := c.Send(engineio.Message{Data: []byte("late")}); !errors.Is(err, engineio.ErrClosed) {
		t.Fatalf("Send after close: %v", err)
	}
	// Whether the GET saw "4bye" alone or together with the close packet, the close packet ends
	// the session.
	var all string
	select {
	case all = <-got:
	case <-time.After(wait):
		t.Fatal("GET not answered")
	}
	if all == "4bye" {
		_, all = e.get(t, sid)
		all = "4bye\x1e" + all
	}
	if all != "4bye\x1e1" {
		t.Fatalf("got %q", all)
	}
	if status, _ := e.get(t, sid); status != 400 {
		t.Fatalf("after close: %d", status)
	}
	if n := e.srv.Count(); n != 0 {
		t.Fatalf("Count %d", n)
	}
}

func TestPollingClientClose(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	if status, body := e.post(t, sid, "1"); status != 200 || body != "ok" {
		t.Fatalf("post: %d %s", status, body)
	}
	rec.wantClose(t, engineio.ReasonTransportClose)
	// The client's GET, sent with the close but handled after it, ends with a noop (as in the
	// official suite's "forcefully closes the session"); only then is the session gone.
	if status, body := e.get(t, sid); status != 200 || body != "6" {
		t.Fatalf("get after close: %d %q, want 200 \"6\"", status, body)
	}
	if status, _ := e.get(t, sid); status != 400 {
		t.Fatalf("second get after close: %d", status)
	}
	if n := e.srv.Count(); n != 0 {
		t.Fatalf("Count %d", n)
	}
}

func TestPollingOversizePayload(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{MaxPayload: 100}, rec)
	sid := e.handshake(t)
	if status, _ := e.post(t, sid, "4"+strings.Repeat("x", 100)); status != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", status)
	}
	rec.wantClose(t, engineio.ReasonTransportError)
	if status, _ := e.get(t, sid); status != 400 {
		t.Fatalf("after close: %d", status)
	}
}

func TestPollingQueueFull(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{QueueSize: 4}, rec)
	sid := e.handshake(t)
	c := rec.open(t)
	for i := range 4 {
		if err := c.Send(engineio.Message{Data: []byte{byte('a' + i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Send(engineio.Message{Data: []byte("e")}); !errors.Is(err, engineio.ErrClosed) {
		t.Fatalf("Send on a full queue: %v", err)
	}
	rec.wantClose(t, engineio.ReasonQueueFull)
	if status, _ := e.get(t, sid); status != 400 {
		t.Fatalf("after close: %d", status)
	}
}

func TestPollingHeartbeat(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 2 * time.Second}, rec)
	sid := e.handshake(t)
	for range 3 {
		if status, body := e.get(t, sid); status != 200 || body != "2" {
			t.Fatalf("get: %d %q", status, body)
		}
		if status, body := e.post(t, sid, "3"); status != 200 || body != "ok" {
			t.Fatalf("post: %d %s", status, body)
		}
	}
	select {
	case ev := <-rec.closes:
		t.Fatalf("closed: %s", ev.reason)
	default:
	}
}

func TestPollingPingTimeout(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}, rec)
	sid := e.handshake(t)
	rec.wantClose(t, engineio.ReasonPingTimeout)
	if status, _ := e.get(t, sid); status != 400 {
		t.Fatalf("after timeout: %d", status)
	}
}

// TestPollingGetAfterPingDeadline: a polling client silent for PingInterval + PingTimeout after its
// handshake is gone for its next request, whether or not the server's timers have fired by then
// (the official suites' "closes the session upon ping timeout" sends its GET right at that time).
// The wait is the client's silence, the scenario under test, not a synchronisation.
func TestPollingGetAfterPingDeadline(t *testing.T) {
	const interval, timeout = 20 * time.Millisecond, 10 * time.Millisecond
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{PingInterval: interval, PingTimeout: timeout}, rec)
	for range 5 {
		sid := e.handshake(t)
		silent := time.After(interval + timeout)
		rec.open(t)
		<-silent
		if status, body := e.get(t, sid); status != 400 {
			t.Fatalf("GET after the ping deadline: %d %q, want 400", status, body)
		}
		rec.wantClose(t, engineio.ReasonPingTimeout)
	}
}

func TestWebSocketEcho(t *testing.T) {
	rec := newRecorder(t, true)
	e := start(t, engineio.Config{}, rec)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, ws) // open
	write(t, ws, websocket.TextMessage, "4héllo")
	write(t, ws, websocket.BinaryMessage, "\x01\x02\x03")
	if typ, s := read(t, ws); typ != websocket.TextMessage || s != "4héllo" {
		t.Errorf("got %d %q", typ, s)
	}
	if typ, s := read(t, ws); typ != websocket.BinaryMessage || s != "\x01\x02\x03" {
		t.Errorf("got %d %q", typ, s)
	}
	if m := rec.msg(t); m.Binary || string(m.Data) != "héllo" {
		t.Errorf("message %+v", m)
	}
	if m := rec.msg(t); !m.Binary || string(m.Data) != "\x01\x02\x03" {
		t.Errorf("message %+v", m)
	}
}

// A message built by NewText, shared by several connections as a broadcast shares it, reaches
// each of them as the same frame, on WebSocket and on polling.
func TestNewTextSharedBySeveralConnections(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{}, rec)
	m := engineio.NewText(3, func(b []byte) []byte { return append(b, "héllo"...) })
	if m.Binary || string(m.Data) != "héllo" {
		t.Fatalf("NewText: %+v", m)
	}
	var socks []*websocket.Conn
	var conns []*engineio.Conn
	for range 3 {
		ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
		if err != nil {
			t.Fatal(err)
		}
		read(t, ws) // open
		socks = append(socks, ws)
		conns = append(conns, rec.open(t))
	}
	sid := e.handshake(t)
	conns = append(conns, rec.open(t))
	for _, c := range conns {
		if err := c.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	for _, ws := range socks {
		if typ, s := read(t, ws); typ != websocket.TextMessage || s != "4héllo" {
			t.Errorf("websocket got %d %q", typ, s)
		}
	}
	if _, body := e.get(t, sid); body != "4héllo" {
		t.Errorf("polling got %q", body)
	}
}

func TestWebSocketCloses(t *testing.T) {
	for _, tc := range []struct {
		name, frame, reason string
	}{
		{"invalid packet", "abc", engineio.ReasonParseError},
		{"invalid UTF-8", "4\xff", engineio.ReasonParseError},
		{"client close packet", "1", engineio.ReasonTransportClose},
		{"oversize", "4" + strings.Repeat("x", 200), engineio.ReasonTransportError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := newRecorder(t, false)
			e := start(t, engineio.Config{MaxPayload: 100}, rec)
			ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
			if err != nil {
				t.Fatal(err)
			}
			read(t, ws)
			// gorilla's writer does not check UTF-8, so the invalid frame reaches the server.
			write(t, ws, websocket.TextMessage, tc.frame)
			readUntilClosed(t, ws)
			rec.wantClose(t, tc.reason)
		})
	}
}

func TestWebSocketHeartbeat(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 2 * time.Second}, rec)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, ws)
	for range 3 {
		if _, s := read(t, ws); s != "2" {
			t.Fatalf("got %q", s)
		}
		write(t, ws, websocket.TextMessage, "3")
	}
	select {
	case ev := <-rec.closes:
		t.Fatalf("closed: %s", ev.reason)
	default:
	}
}

func TestWebSocketPingTimeout(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}, rec)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, ws)
	frames := readUntilClosed(t, ws)
	rec.wantClose(t, engineio.ReasonPingTimeout)
	for _, f := range frames {
		if f != "2" {
			t.Errorf("unexpected frame %q", f)
		}
	}
}

func TestWebSocketQueueFull(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{QueueSize: 8}, rec)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = ws // never read: the kernel buffers fill, then melody's buffer
	c := rec.open(t)
	big := make([]byte, 64<<10)
	var sendErr error
	for i := 0; i < 100_000 && sendErr == nil; i++ {
		sendErr = c.Send(engineio.Message{Binary: true, Data: big})
	}
	if !errors.Is(sendErr, engineio.ErrClosed) {
		t.Fatalf("Send never failed: %v", sendErr)
	}
	rec.wantClose(t, engineio.ReasonQueueFull)
}

func TestOrigin(t *testing.T) {
	e := start(t, engineio.Config{}, engineio.EchoHandler{})
	_, res, err := e.dial(t, "EIO=4&transport=websocket", http.Header{"Origin": {"http://evil.example"}})
	if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin accepted: %v", err)
	}
	// Same host is accepted on both transports.
	same := http.Header{"Origin": {e.ts.URL}}
	if status, _, _ := e.do(t, http.MethodGet, "EIO=4&transport=polling", "", same); status != 200 {
		t.Fatalf("same origin polling: %d", status)
	}
	if _, _, err := e.dial(t, "EIO=4&transport=websocket", same); err != nil {
		t.Fatalf("same origin websocket: %v", err)
	}
}

func TestCORS(t *testing.T) {
	const app = "http://app.example"
	e := start(t, engineio.Config{
		CheckOrigin: func(r *http.Request) bool { o := r.Header.Get("Origin"); return o == "" || o == app },
		CORSOrigin:  func(o string) bool { return o == app },
	}, engineio.EchoHandler{})
	status, _, hdr := e.do(t, http.MethodOptions, "EIO=4&transport=polling", "", http.Header{
		"Origin": {app}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"},
	})
	if status != http.StatusNoContent || hdr.Get("Access-Control-Allow-Origin") != app || hdr.Get("Access-Control-Allow-Credentials") != "true" || hdr.Get("Access-Control-Allow-Headers") != "content-type" {
		t.Fatalf("preflight: %d %v", status, hdr)
	}
	status, _, hdr = e.do(t, http.MethodGet, "EIO=4&transport=polling", "", http.Header{"Origin": {app}})
	if status != 200 || hdr.Get("Access-Control-Allow-Origin") != app {
		t.Fatalf("handshake: %d %v", status, hdr)
	}
	status, _, hdr = e.do(t, http.MethodGet, "EIO=4&transport=polling", "", http.Header{"Origin": {"http://evil.example"}})
	if status != 403 || hdr.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("foreign: %d %v", status, hdr)
	}
}

// TestUpgrade runs the upgrade dance while both sides keep sending: nothing is lost and the order
// holds across the switch of transport.
func TestUpgrade(t *testing.T) {
	rec := newRecorder(t, true)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	c := rec.open(t)

	const n = 300
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for i := range n {
			if err := c.Send(engineio.Message{Data: fmt.Appendf(nil, "s%d", i)}); err != nil {
				t.Errorf("Send: %v", err)
				return
			}
		}
	}()

	var received []string // what the client got, in order
	take := func(body string) {
		for _, p := range strings.Split(body, "\x1e") {
			if p != "6" {
				received = append(received, p)
			}
		}
	}
	next := 0 // client messages sent so far
	post := func(k int) {
		var parts []string
		for range k {
			parts = append(parts, fmt.Sprintf("4c%d", next))
			next++
		}
		if status, body := e.post(t, sid, strings.Join(parts, "\x1e")); status != 200 || body != "ok" {
			t.Fatalf("post: %d %s", status, body)
		}
	}
	post(10)
	_, body := e.get(t, sid)
	take(body)

	ws, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	frames := readLoop(t, ws)
	// A second probe for the same session is closed (TestSecondWebSocketClosed).
	post(10)
	write(t, ws, websocket.TextMessage, "2probe")
	if s := nextFrame(t, frames); s != "3probe" {
		t.Fatalf("probe answer %q", s)
	}
	// The client pauses polling: its last GET ends with a noop or with what was queued, once the
	// client has answered the WebSocket ping that fences it.
	status, body := e.get(t, sid)
	if status != 200 {
		t.Fatalf("get during upgrade: %d", status)
	}
	take(body)
	write(t, ws, websocket.TextMessage, "5")
	for i := 0; i < 10; i++ {
		write(t, ws, websocket.TextMessage, fmt.Sprintf("4c%d", next))
		next++
	}
	<-sent
	// Everything left arrives on the WebSocket: server messages and echoes, in order.
	for len(received) < n+next {
		s := nextFrame(t, frames)
		if s != "2" {
			received = append(received, s)
		}
	}
	if c.Transport() != "websocket" {
		t.Errorf("transport %s", c.Transport())
	}
	if status, _ := e.get(t, sid); status != 400 {
		t.Errorf("polling after upgrade: %d", status)
	}

	si, ci := 0, 0
	for _, p := range received {
		switch {
		case p == fmt.Sprintf("4s%d", si):
			si++
		case p == fmt.Sprintf("4c%d", ci):
			ci++
		default:
			t.Fatalf("out of order or unexpected: %q (next s%d, c%d)", p, si, ci)
		}
	}
	if si != n || ci != next {
		t.Fatalf("got s%d c%d", si, ci)
	}
	for i := range next {
		if m := rec.msg(t); string(m.Data) != fmt.Sprintf("c%d", i) {
			t.Fatalf("server got %q, want c%d", m.Data, i)
		}
	}
}

// TestGetAfterUpgradePacket: a GET that the client sends after its upgrade packet gets 400,
// even when the server reads the GET first ("ignores HTTP requests with same sid after upgrade").
// The test makes that order certain: its client holds the upgrade packet back until the server
// has taken the GET, which the WebSocket ping the server sends for it shows, then sends the
// packet and only then answers the ping, as a client whose packet was delayed on the way would.
func TestGetAfterUpgradePacket(t *testing.T) {
	rec := newRecorder(t, true)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, websocket.TextMessage, "2probe")
	if _, s := read(t, ws); s != "3probe" {
		t.Fatalf("probe answer %q", s)
	}
	// The handler runs on the read loop's goroutine; upgraded is closed once its write of the
	// upgrade packet has returned, so the test's own write below never overlaps it (gorilla
	// allows one concurrent writer only, and the server may answer the GET while the handler's
	// WriteMessage is still finishing).
	var pinged atomic.Int32
	upgraded := make(chan struct{})
	ws.SetPingHandler(func(data string) error {
		if pinged.Add(1) == 1 {
			err := ws.WriteMessage(websocket.TextMessage, []byte("5"))
			close(upgraded)
			if err != nil {
				return err
			}
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(wait))
	})
	frames := readLoop(t, ws)

	status, body := e.get(t, sid)
	if status != http.StatusBadRequest {
		t.Fatalf("GET after the upgrade packet: %d %q, want 400", status, body)
	}
	select {
	case <-upgraded:
	case <-time.After(wait):
		t.Fatal("no ping for the GET")
	}
	write(t, ws, websocket.TextMessage, "4hello")
	if s := nextFrame(t, frames); s != "4hello" {
		t.Fatalf("echo %q", s)
	}
	if c := rec.open(t); c.Transport() != "websocket" {
		t.Fatalf("transport %s", c.Transport())
	}
}

// TestGetFenceLiftedWhenProbeFails: a GET waiting for its fence on a probe whose client never
// answers the ping goes on polling once the probe is dropped (here by UpgradeTimeout).
func TestGetFenceLiftedWhenProbeFails(t *testing.T) {
	rec := newRecorder(t, true)
	e := start(t, engineio.Config{UpgradeTimeout: 50 * time.Millisecond}, rec)
	sid := e.handshake(t)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, websocket.TextMessage, "2probe")
	if _, s := read(t, ws); s != "3probe" {
		t.Fatalf("probe answer %q", s)
	}
	// The client reads no more from the WebSocket, so it answers no ping.
	got := make(chan string, 1)
	go func() {
		status, body := e.get(t, sid)
		got <- fmt.Sprint(status, " ", body)
	}()
	if status, body := e.post(t, sid, "4still"); status != 200 || body != "ok" {
		t.Fatalf("post: %d %s", status, body)
	}
	select {
	case s := <-got:
		if s != "200 4still" {
			t.Fatalf("GET: %q, want the echo", s)
		}
	case <-time.After(wait):
		t.Fatal("GET still waiting")
	}
	if c := rec.open(t); c.Transport() != "polling" {
		t.Fatalf("transport %s", c.Transport())
	}
}

// TestSecondWebSocketClosed: a WebSocket for a session that is being upgraded, or is on WebSocket
// already, completes its handshake and is closed, as with the official server ("should ignore
// WebSocket connection with same sid after upgrade"); the session goes on undisturbed. During a
// probe it is closed once the client has answered a ping on the probe
// (TestSecondWebSocketRefusedAfterProbe), so the client reads the probe as browsers do.
func TestSecondWebSocketClosed(t *testing.T) {
	rec := newRecorder(t, true)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	ignored := func(when string) {
		t.Helper()
		ws, res, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
		if err != nil {
			status := 0
			if res != nil {
				status = res.StatusCode
			}
			t.Fatalf("%s: handshake refused (%d): %v", when, status, err)
		}
		if got := readUntilClosed(t, ws); len(got) != 0 {
			t.Fatalf("%s: got %q on an ignored WebSocket", when, got)
		}
	}

	ws, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	frames := readLoop(t, ws)
	ignored("during the probe")
	write(t, ws, websocket.TextMessage, "2probe")
	if s := nextFrame(t, frames); s != "3probe" {
		t.Fatalf("probe answer %q", s)
	}
	write(t, ws, websocket.TextMessage, "5")
	write(t, ws, websocket.TextMessage, "4hello")
	if s := nextFrame(t, frames); s != "4hello" {
		t.Fatalf("echo %q", s)
	}
	ignored("after the upgrade")
	write(t, ws, websocket.TextMessage, "4again")
	if s := nextFrame(t, frames); s != "4again" {
		t.Fatalf("echo %q", s)
	}
	if c := rec.open(t); c.Transport() != "websocket" {
		t.Fatalf("transport %s", c.Transport())
	}
}

func TestUpgradeProbeFails(t *testing.T) {
	rec := newRecorder(t, true)
	e := start(t, engineio.Config{}, rec)
	sid := e.handshake(t)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Anything but 2probe/5 on a probe drops it; the session stays on polling.
	write(t, ws, websocket.TextMessage, "4nope")
	readUntilClosed(t, ws)
	// A second attempt can go ahead once the first is cleaned up; meanwhile polling works.
	if status, body := e.post(t, sid, "4still"); status != 200 || body != "ok" {
		t.Fatalf("post: %d %s", status, body)
	}
	if status, body := e.get(t, sid); status != 200 || body != "4still" {
		t.Fatalf("get: %d %q", status, body)
	}
	// An upgrade packet before the probe is refused too.
	ws2, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws2, websocket.TextMessage, "5")
	readUntilClosed(t, ws2)
	if c := rec.open(t); c.Transport() != "polling" {
		t.Fatalf("transport %s", c.Transport())
	}
	select {
	case ev := <-rec.closes:
		t.Fatalf("closed: %s", ev.reason)
	default:
	}
}

func TestUpgradeTimeout(t *testing.T) {
	rec := newRecorder(t, true)
	e := start(t, engineio.Config{UpgradeTimeout: 50 * time.Millisecond}, rec)
	sid := e.handshake(t)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, ws, websocket.TextMessage, "2probe")
	if _, s := read(t, ws); s != "3probe" {
		t.Fatalf("probe answer %q", s)
	}
	// No upgrade packet follows: the server drops the probe; the session goes on polling.
	readUntilClosed(t, ws)
	if status, body := e.post(t, sid, "4after"); status != 200 || body != "ok" {
		t.Fatalf("post: %d %s", status, body)
	}
	if status, body := e.get(t, sid); status != 200 || body != "4after" {
		t.Fatalf("get: %d %q", status, body)
	}
	if c := rec.open(t); c.Transport() != "polling" {
		t.Fatalf("transport %s", c.Transport())
	}
}

func TestShutdown(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{}, rec)
	srv := e.srv

	// A polling session with a pending GET.
	sid := e.handshake(t)
	getDone := make(chan string, 1)
	go func() {
		status, body := e.get(t, sid)
		getDone <- fmt.Sprint(status, " ", body)
	}()
	// A WebSocket session.
	ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, ws)
	// A session in the middle of an upgrade.
	sid2 := e.handshake(t)
	probe, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid2, nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, probe, websocket.TextMessage, "2probe")
	read(t, probe)
	for range 3 {
		rec.open(t)
	}
	if n := srv.Count(); n != 3 {
		t.Fatalf("Count %d", n)
	}

	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		rec.wantClose(t, engineio.ReasonServerShutdown)
	}
	if n := srv.Count(); n != 0 {
		t.Fatalf("Count after Shutdown %d", n)
	}
	select {
	case got := <-getDone:
		if strings.HasPrefix(got, "200") {
			t.Fatalf("pending GET answered %q, want no close packet", got)
		}
	case <-time.After(wait):
		t.Fatal("pending GET not ended")
	}
	if frames := readUntilClosed(t, ws); len(frames) != 0 {
		t.Fatalf("frames before the cut: %q", frames)
	}
	readUntilClosed(t, probe)
	if status, _, _ := e.do(t, http.MethodGet, "EIO=4&transport=polling", "", nil); status != http.StatusServiceUnavailable {
		t.Fatalf("handshake after Shutdown: %d", status)
	}
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
}

// TestWebSocketBacklog queues far more than melody's small channel holds on a client that does
// not read yet: everything arrives in order, then the close frame of a graceful Close.
func TestWebSocketBacklog(t *testing.T) {
	rec := newRecorder(t, false)
	e := start(t, engineio.Config{QueueSize: 1000}, rec)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	read(t, ws) // open
	c := rec.open(t)
	const n = 900
	for i := range n {
		if err := c.Send(engineio.Message{Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	c.Close(engineio.ReasonForcedClose)
	frames := readUntilClosed(t, ws)
	if len(frames) != n {
		t.Fatalf("got %d frames, want %d", len(frames), n)
	}
	for i, f := range frames {
		if want := "4" + fmt.Sprint(i); f != want {
			t.Fatalf("frame %d: %q, want %q", i, f, want)
		}
	}
	rec.wantClose(t, engineio.ReasonForcedClose)
}

// heldWrites holds every write to a WebSocket, once armed, until release is closed, standing for a
// client that reads nothing for a while: melody's write loop blocks, its channel fills, the
// backlog takes the rest.
type heldWrites struct {
	net.Conn
	armed   *atomic.Bool
	release chan struct{}
}

func (c *heldWrites) Write(b []byte) (int, error) {
	if c.armed.Load() {
		<-c.release
	}
	return c.Conn.Write(b)
}

// Frames that find melody's channel full wait in the backlog and go out in order once the client
// reads again; then no WebSocket counts as backlogged, so that melody's sent-frame callback is back
// to returning without looking its transport up.
func TestWebSocketBacklogDrains(t *testing.T) {
	rec := newRecorder(t, false)
	release := make(chan struct{})
	var armed atomic.Bool
	e := startWith(t, engineio.Config{QueueSize: 1000}, rec, func(s *engineio.Server, _ *httptest.Server) {
		engineio.SetWebSocketWrapper(s, func(c net.Conn) net.Conn { return &heldWrites{Conn: c, armed: &armed, release: release} })
	})
	ws, _, err := e.dial(t, "EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, open := read(t, ws); !strings.HasPrefix(open, "0") {
		t.Fatalf("first frame %q, want the open packet", open)
	}
	c := rec.open(t)
	armed.Store(true)
	const n = 200 // well over melody's channel
	for i := range n {
		if err := c.Send(engineio.Message{Data: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	if got := engineio.Backlogged(e.srv); got != 1 {
		t.Fatalf("%d WebSockets backlogged while their writes are held, want 1", got)
	}
	close(release)
	for i := range n {
		if _, f := read(t, ws); f != "4"+fmt.Sprint(i) {
			t.Fatalf("frame %d: %q", i, f)
		}
	}
	if got := engineio.Backlogged(e.srv); got != 0 {
		t.Fatalf("%d WebSockets backlogged after the backlog drained, want 0", got)
	}
	c.Close(engineio.ReasonForcedClose)
	rec.wantClose(t, engineio.ReasonForcedClose)
}

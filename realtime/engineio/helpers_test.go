package engineio_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"github.com/pagespace/pagespace/realtime/engineio"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const wait = 5 * time.Second

// closeEvent is one OnClose call.
type closeEvent struct {
	c      *engineio.Conn
	reason string
}

// recorder is a Handler that echoes (when echo is set), reports every call on channels and
// fails the test if the calls for one Conn overlap or come out of order.
type recorder struct {
	t      *testing.T
	echo   bool
	opens  chan *engineio.Conn
	msgs   chan engineio.Message
	closes chan closeEvent

	mu    sync.Mutex
	state map[*engineio.Conn]int // 1 open, 2 in a call, 3 closed
}

func newRecorder(t *testing.T, echo bool) *recorder {
	return &recorder{
		t: t, echo: echo,
		opens:  make(chan *engineio.Conn, 100),
		msgs:   make(chan engineio.Message, 10000),
		closes: make(chan closeEvent, 100),
		state:  make(map[*engineio.Conn]int),
	}
}

func (r *recorder) enter(c *engineio.Conn, what string, want int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if got := r.state[c]; got != want {
		r.t.Errorf("%s on %s in state %d, want %d", what, c.ID(), got, want)
	}
	r.state[c] = 2
}

func (r *recorder) leave(c *engineio.Conn, to int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.state[c] = to
}

func (r *recorder) OnOpen(c *engineio.Conn) {
	r.enter(c, "OnOpen", 0)
	r.leave(c, 1)
	r.opens <- c
}

func (r *recorder) OnMessage(c *engineio.Conn, m engineio.Message) {
	r.enter(c, "OnMessage", 1)
	defer r.leave(c, 1)
	if r.echo {
		_ = c.Send(m)
	}
	r.msgs <- m
}

func (r *recorder) OnClose(c *engineio.Conn, reason string) {
	r.enter(c, "OnClose", 1)
	r.leave(c, 3)
	r.closes <- closeEvent{c, reason}
}

func (r *recorder) open(t *testing.T) *engineio.Conn {
	t.Helper()
	select {
	case c := <-r.opens:
		return c
	case <-time.After(wait):
		t.Fatal("no OnOpen")
		return nil
	}
}

func (r *recorder) msg(t *testing.T) engineio.Message {
	t.Helper()
	select {
	case m := <-r.msgs:
		return m
	case <-time.After(wait):
		t.Fatal("no OnMessage")
		return engineio.Message{}
	}
}

func (r *recorder) closed(t *testing.T) closeEvent {
	t.Helper()
	select {
	case e := <-r.closes:
		return e
	case <-time.After(wait):
		t.Fatal("no OnClose")
		return closeEvent{}
	}
}

func (r *recorder) wantClose(t *testing.T, reason string) {
	t.Helper()
	if e := r.closed(t); e.reason != reason {
		t.Fatalf("OnClose reason %q, want %q", e.reason, reason)
	}
}

// env is a running server with a polling client.
type env struct {
	srv    *engineio.Server
	ts     *httptest.Server
	url    string // http://host/engine.io/
	client *http.Client
}

func start(t *testing.T, cfg engineio.Config, h engineio.Handler) *env {
	t.Helper()
	return startWith(t, cfg, h, nil)
}

// startWith is start with setup (if not nil) run on the server and its test server before the
// latter starts: setup may wrap the listener or set test hooks.
func startWith(t *testing.T, cfg engineio.Config, h engineio.Handler, setup func(*engineio.Server, *httptest.Server)) *env {
	t.Helper()
	srv := engineio.NewServer(cfg, h)
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", srv)
	ts := httptest.NewUnstartedServer(mux)
	if setup != nil {
		setup(srv, ts)
	}
	ts.Start()
	tr := &http.Transport{}
	e := &env{srv: srv, ts: ts, url: ts.URL + "/engine.io/", client: &http.Client{Transport: tr, Timeout: wait}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		ts.Close()
		tr.CloseIdleConnections()
	})
	return e
}

func (e *env) do(t *testing.T, method, query, body string, hdr http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, e.url+"?"+query, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if method == http.MethodPost && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	res, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, query, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, string(b), res.Header
}

type openPacket struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

func parseOpen(t *testing.T, s string) openPacket {
	t.Helper()
	if !strings.HasPrefix(s, "0") {
		t.Fatalf("open packet %q", s)
	}
	var o openPacket
	if err := json.Unmarshal([]byte(s[1:]), &o); err != nil {
		t.Fatalf("open packet %q: %v", s, err)
	}
	return o
}

// handshake opens a polling session and returns its sid.
func (e *env) handshake(t *testing.T) string {
	t.Helper()
	status, body, _ := e.do(t, http.MethodGet, "EIO=4&transport=polling&t=abc", "", nil)
	if status != http.StatusOK {
		t.Fatalf("handshake: %d %s", status, body)
	}
	return parseOpen(t, body).SID
}

func (e *env) get(t *testing.T, sid string) (int, string) {
	t.Helper()
	status, body, _ := e.do(t, http.MethodGet, "EIO=4&transport=polling&t=x&sid="+sid, "", nil)
	return status, body
}

func (e *env) post(t *testing.T, sid, body string) (int, string) {
	t.Helper()
	status, b, _ := e.do(t, http.MethodPost, "EIO=4&transport=polling&t=y&sid="+sid, body, nil)
	return status, b
}

func (e *env) dial(t *testing.T, query string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	u := "ws" + strings.TrimPrefix(e.url, "http") + "?" + query
	ws, res, err := websocket.DefaultDialer.Dial(u, hdr)
	if ws != nil {
		t.Cleanup(func() { ws.Close() })
	}
	return ws, res, err
}

// read reads one frame with a deadline.
func read(t *testing.T, ws *websocket.Conn) (int, string) {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	typ, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return typ, string(b)
}

// readUntilClosed reads frames until the connection ends and returns the text frames seen.
func readUntilClosed(t *testing.T, ws *websocket.Conn) []string {
	t.Helper()
	var got []string
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	for {
		typ, b, err := ws.ReadMessage()
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("WebSocket not closed in time")
			}
			return got
		}
		if typ == websocket.TextMessage {
			got = append(got, string(b))
		}
	}
}

func write(t *testing.T, ws *websocket.Conn, typ int, s string) {
	t.Helper()
	if err := ws.WriteMessage(typ, []byte(s)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// readLoop reads ws on a goroutine of its own, as browsers and the official client do, so that
// the server's WebSocket pings are answered while the test does something else. Text frames
// arrive on the channel, which is closed when the connection ends.
func readLoop(t *testing.T, ws *websocket.Conn) <-chan string {
	t.Helper()
	frames := make(chan string, 16)
	_ = ws.SetReadDeadline(time.Time{}) // read may have set one; nextFrame bounds the wait
	go func() {
		defer close(frames)
		for {
			typ, b, err := ws.ReadMessage()
			if err != nil {
				return
			}
			if typ == websocket.TextMessage {
				frames <- string(b)
			}
		}
	}()
	t.Cleanup(func() {
		ws.Close()
		for range frames {
		}
	})
	return frames
}

// nextFrame returns the next text frame that readLoop received.
func nextFrame(t *testing.T, frames <-chan string) string {
	t.Helper()
	select {
	case s, ok := <-frames:
		if !ok {
			t.Fatal("WebSocket closed")
		}
		return s
	case <-time.After(wait):
		t.Fatal("no frame")
		return ""
	}
}

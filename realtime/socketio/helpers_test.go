package socketio_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pagespace/pagespace/realtime/engineio"
	"github.com/pagespace/pagespace/realtime/socketio"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait is the deadline of every wait on an event; tests never sleep.
const wait = 5 * time.Second

var connSeq atomic.Int64

// fakeConn plays an Engine.IO connection: Send records, Close reports OnClose like the engine,
// and the handshake request is let go once the connection is admitted.
type fakeConn struct {
	id     string
	srv    *socketio.Server
	out    chan engineio.Message
	reason chan string

	mu       sync.Mutex
	closed   bool
	admitted bool
}

func (c *fakeConn) ID() string { return c.id }

func (c *fakeConn) Request() *http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.admitted {
		return nil
	}
	return httptest.NewRequest("GET", "/socket.io/?EIO=4&transport=websocket", nil)
}

func (c *fakeConn) Admit() {
	c.mu.Lock()
	c.admitted = true
	c.mu.Unlock()
}

func (c *fakeConn) Send(msgs ...engineio.Message) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return engineio.ErrClosed
	}
	full := false
	for _, m := range msgs {
		select {
		case c.out <- m:
		default:
			full = true
		}
	}
	c.mu.Unlock()
	if full {
		c.Close("outbound queue full")
		return engineio.ErrClosed
	}
	return nil
}

func (c *fakeConn) Close(reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	c.reason <- reason
	c.srv.Closed(c, reason) // synchronously, the harshest case
}

// testClient is one fake connection seen from the client side.
type testClient struct {
	t    *testing.T
	srv  *socketio.Server
	conn *fakeConn
	dec  socketio.Decoder
}

func newTestServer(t *testing.T, cfg socketio.Config) *socketio.Server {
	t.Helper()
	srv := socketio.NewTestServer(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return srv
}

func dial(t *testing.T, srv *socketio.Server) *testClient {
	t.Helper()
	c := &fakeConn{
		id:     "conn" + strconv.FormatInt(connSeq.Add(1), 10),
		srv:    srv,
		out:    make(chan engineio.Message, 1024),
		reason: make(chan string, 1),
	}
	srv.Open(c)
	return &testClient{t: t, srv: srv, conn: c}
}

func (tc *testClient) send(s string) { tc.srv.Message(tc.conn, engineio.Message{Data: []byte(s)}) }
func (tc *testClient) sendBin(b []byte) {
	tc.srv.Message(tc.conn, engineio.Message{Binary: true, Data: b})
}

// next returns the next packet the server sent, within the deadline.
func (tc *testClient) next() *socketio.Packet {
	tc.t.Helper()
	deadline := time.After(wait)
	for {
		select {
		case m := <-tc.conn.out:
			p, err := tc.dec.Add(m)
			if err != nil {
				tc.t.Fatalf("server sent an invalid packet %q: %v", m.Data, err)
			}
			if p != nil {
				return p
			}
		case <-deadline:
			tc.t.Fatal("no packet from the server")
			return nil
		}
	}
}

// nextText returns the next message the server sent, which must be text.
func (tc *testClient) nextText() string {
	tc.t.Helper()
	select {
	case m := <-tc.conn.out:
		if m.Binary {
			tc.t.Fatalf("binary message %v", m.Data)
		}
		return string(m.Data)
	case <-time.After(wait):
		tc.t.Fatal("no message from the server")
		return ""
	}
}

func (tc *testClient) expectText(want string) {
	tc.t.Helper()
	if got := tc.nextText(); got != want {
		tc.t.Fatalf("got %q, want %q", got, want)
	}
}

// closed waits for the server to close the connection and returns the reason.
func (tc *testClient) closed() string {
	tc.t.Helper()
	select {
	case r := <-tc.conn.reason:
		return r
	case <-time.After(wait):
		tc.t.Fatal("connection not closed")
		return ""
	}
}

type connectReply struct {
	SID string `json:"sid"`
	PID string `json:"pid"`
}

// connect joins nsp with auth ("" for none) and returns the CONNECT reply.
func (tc *testClient) connect(nsp, auth string) connectReply {
	tc.t.Helper()
	prefix := "0"
	if nsp != "/" {
		prefix += nsp + ","
	}
	tc.send(prefix + auth)
	p := tc.next()
	if p.Type != socketio.PacketConnect || p.Namespace != nsp {
		tc.t.Fatalf("connect %s: got %v %s %s", nsp, p.Type, p.Namespace, p.Data)
	}
	var r connectReply
	if err := json.Unmarshal(p.Data, &r); err != nil || r.SID == "" {
		tc.t.Fatalf("connect reply %s: %v", p.Data, err)
	}
	return r
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(wait):
		t.Fatal("timed out waiting")
		var zero T
		return zero
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

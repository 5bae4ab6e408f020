package engineio_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/pagespace/pagespace/realtime/engineio"
)

// The frames the order tests look for, as the server writes them (unmasked).
var (
	probeFrame = []byte("\x81\x063probe") // text frame 3probe
	emptyClose = []byte{0x88, 0x00}       // close frame without a payload, as a refused WebSocket gets
)

// wireLog wraps the test server's listener and notes, in the order the server makes them, the
// writes that the order tests compare: 3probe on a WebSocket, an HTTP 400 answer, and the close
// frame of a refused WebSocket. A write is noted before it is made, so before the client can
// have read it.
type wireLog struct {
	mu     sync.Mutex
	events []string
}

func (l *wireLog) wrap(ln net.Listener) net.Listener { return &logListener{ln, l} }

func (l *wireLog) note(b []byte) {
	var ev string
	switch {
	case bytes.Contains(b, probeFrame):
		ev = "3probe"
	case bytes.HasPrefix(b, []byte("HTTP/1.1 400 ")):
		ev = "400"
	case bytes.Equal(b, emptyClose):
		ev = "close"
	default:
		return
	}
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
}

// before reports whether a was noted, and before any b.
func (l *wireLog) before(a, b string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, ev := range l.events {
		switch ev {
		case a:
			return true
		case b:
			return false
		}
	}
	return false
}

func (l *wireLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprint(l.events)
}

type logListener struct {
	net.Listener
	log *wireLog
}

func (ln *logListener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &logConn{c, ln.log}, nil
}

type logConn struct {
	net.Conn
	log *wireLog
}

func (c *logConn) Write(b []byte) (int, error) {
	c.log.note(b)
	return c.Conn.Write(b)
}

// lateWrites stands for melody's write loop running late: every write gorilla makes for a melody
// WebSocket that contains frame waits until release is called. It wraps the connection above
// the server's own wrapper (engineio.SetWebSocketWrapper), so a held write holds no lock of the
// server's.
type lateWrites struct {
	frame    []byte
	released chan struct{}
	once     sync.Once
	held     atomic.Bool // a write has waited
}

func newLateWrites(frame []byte) *lateWrites {
	return &lateWrites{frame: frame, released: make(chan struct{})}
}

func (lw *lateWrites) wrap(c net.Conn) net.Conn { return &lateConn{c, lw} }

func (lw *lateWrites) release() { lw.once.Do(func() { close(lw.released) }) }

type lateConn struct {
	net.Conn
	lw *lateWrites
}

func (c *lateConn) Write(b []byte) (int, error) {
	if bytes.Contains(b, c.lw.frame) {
		select {
		case <-c.lw.released:
		default:
			c.lw.held.Store(true)
			<-c.lw.released
		}
	}
	return c.Conn.Write(b)
}

// TestProbeAnsweredBeforeGet: 3probe is on the wire before the 400 that a GET sent after the
// upgrade packet gets, however late melody's write loop runs. The official suite ("ignores HTTP
// requests with same sid after upgrade") sends 2probe and 5 together without waiting for
// 3probe, then a GET that must get 400, then a message, and takes the next WebSocket frame for
// its echo: a 3probe that arrives after the 400 is taken for the echo. Here melody's writes of
// 3probe are held back until the GET is answered.
func TestProbeAnsweredBeforeGet(t *testing.T) {
	var wire wireLog
	late := newLateWrites(probeFrame)
	rec := newRecorder(t, true)
	e := startWith(t, engineio.Config{}, rec, func(srv *engineio.Server, ts *httptest.Server) {
		ts.Listener = wire.wrap(ts.Listener)
		engineio.SetWebSocketWrapper(srv, late.wrap)
	})
	t.Cleanup(late.release) // before the server's Shutdown: cleanups run last first
	sid := e.handshake(t)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	frames := readLoop(t, ws) // answers the ping that fences the GET
	write(t, ws, websocket.TextMessage, "2probe")
	write(t, ws, websocket.TextMessage, "5")

	status, body := e.get(t, sid)
	late.release()
	if status != http.StatusBadRequest {
		t.Fatalf("GET after the upgrade packet: %d %q, want 400", status, body)
	}
	if !wire.before("3probe", "400") {
		t.Fatalf("the GET was answered before 3probe was written (writes %v, melody's write held: %v)",
			&wire, late.held.Load())
	}
	expectUpgraded(t, ws, frames, rec)
}

// TestSecondWebSocketRefusedAfterProbe: a second WebSocket for a session being probed is closed
// only once the frames the client sent on the probe before it have been read, so the client sees
// 3probe first ("ignores WebSocket connection with same sid after upgrade" sends 2probe and 5,
// opens a second WebSocket, waits for its close, then takes the next frame of the first for the
// echo of its message). The test makes the order certain: its client holds 2probe and 5 back
// until the server pings the probe for the second WebSocket, as a client whose frames were
// delayed on the way would, and sends them before the pong.
func TestSecondWebSocketRefusedAfterProbe(t *testing.T) {
	var wire wireLog
	rec := newRecorder(t, true)
	e := startWith(t, engineio.Config{}, rec, func(_ *engineio.Server, ts *httptest.Server) {
		ts.Listener = wire.wrap(ts.Listener)
	})
	sid := e.handshake(t)
	ws, _, err := e.dial(t, "EIO=4&transport=websocket&sid="+sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The ping handler runs on readLoop's goroutine; sent is closed once its writes have
	// returned, so that the test's own write below never overlaps them.
	var pinged atomic.Int32
	sent := make(chan struct{})
	ws.SetPingHandler(func(data string) error {
		if pinged.Add(1) == 1 {
			err := ws.WriteMessage(websocket.TextMessage, []byte("2probe"))
			if err == nil {
				err = ws.WriteMessage(websocket.TextMessage, []byte("5"))
			}
			close(sent)
			if err != nil {
				return err
			}
		}
		return ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(wait))
	})
	frames := readLoop(t, ws)

	closed := make(chan error, 1)
	go func() {
		u := "ws" + e.url[len("http"):] + "?EIO=4&transport=websocket&sid=" + sid
		ws2, _, err := websocket.DefaultDialer.Dial(u, nil)
		if err != nil {
			closed <- fmt.Errorf("handshake refused: %w", err)
			return
		}
		defer ws2.Close()
		_ = ws2.SetReadDeadline(time.Now().Add(wait))
		for {
			typ, b, err := ws2.ReadMessage()
			if err != nil {
				if ce := (*websocket.CloseError)(nil); !errors.As(err, &ce) {
					closed <- fmt.Errorf("second WebSocket not closed by the server: %w", err)
					return
				}
				closed <- nil
				return
			}
			if typ == websocket.TextMessage {
				closed <- fmt.Errorf("got %q on the second WebSocket", b)
				return
			}
		}
	}()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(2 * wait):
		t.Fatal("second WebSocket still open")
	}
	if !wire.before("3probe", "close") {
		t.Fatalf("the second WebSocket was closed before 3probe was written (writes %v)", &wire)
	}
	select {
	case <-sent:
	case <-time.After(wait):
		t.Fatal("no ping on the probe")
	}
	expectUpgraded(t, ws, frames, rec)
}

// expectUpgraded checks the end of an upgrade as the official suite does: the probe's next frame
// is 3probe, a message sent on it comes back, and the session is on WebSocket.
func expectUpgraded(t *testing.T, ws *websocket.Conn, frames <-chan string, rec *recorder) {
	t.Helper()
	if s := nextFrame(t, frames); s != "3probe" {
		t.Fatalf("probe answer %q", s)
	}
	write(t, ws, websocket.TextMessage, "4hello")
	if s := nextFrame(t, frames); s != "4hello" {
		t.Fatalf("echo %q", s)
	}
	if c := rec.open(t); c.Transport() != "websocket" {
		t.Fatalf("transport %s", c.Transport())
	}
}

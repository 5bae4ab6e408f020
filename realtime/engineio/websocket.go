package engineio

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/olahol/melody"
)

// keyTransport is the melody session key holding the *wsTransport.
const keyTransport = "engineio.transport"

var (
	errOverflow        = errors.New("engineio: outbound queue full")
	errTransportClosed = errors.New("engineio: transport closed")
)

// wsTransport is one WebSocket: the active transport of a session, or a probe for an upgrade.
// Its melody handlers (connect, message, disconnect) all run on the request's goroutine.
type wsTransport struct {
	conn     *Conn
	probe    bool        // read and written only by the request's goroutine
	timer    *time.Timer // upgrade timeout of a probe; request's goroutine only
	sess     *melody.Session
	overflow atomic.Bool // melody reported a full buffer

	mu      sync.Mutex
	netConn net.Conn
	aborted bool
	err     error // the first error melody reported
}

func (s *Server) newMelody() *melody.Melody {
	m := melody.New()
	m.Config.MaxMessageSize = s.cfg.MaxPayload
	m.Config.MessageBufferSize = s.cfg.QueueSize
	m.Upgrader.CheckOrigin = s.cfg.CheckOrigin
	m.HandleConnect(s.wsConnect)
	m.HandleMessage(func(sess *melody.Session, b []byte) { s.wsMessage(sess, b, false) })
	m.HandleMessageBinary(func(sess *melody.Session, b []byte) { s.wsMessage(sess, b, true) })
	m.HandleError(s.wsError)
	m.HandleDisconnect(s.wsDisconnect)
	return m
}

func transportOf(sess *melody.Session) *wsTransport {
	v, _ := sess.Get(keyTransport)
	t, _ := v.(*wsTransport)
	return t
}

// hijackRecorder lets the server cut a WebSocket's TCP connection, which melody cannot do
// without first queueing a close frame behind a possibly full buffer.
type hijackRecorder struct {
	http.ResponseWriter
	t *wsTransport
}

func (h hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("engineio: response does not implement http.Hijacker")
	}
	nc, rw, err := hj.Hijack()
	if err == nil {
		h.t.mu.Lock()
		h.t.netConn = nc
		aborted := h.t.aborted
		h.t.mu.Unlock()
		if aborted {
			_ = nc.Close()
		}
	}
	return nc, rw, err
}

// abort cuts the connection without a close frame.
func (t *wsTransport) abort() {
	t.mu.Lock()
	t.aborted = true
	nc := t.netConn
	t.mu.Unlock()
	if nc != nil {
		_ = nc.Close()
	}
}

// closeGracefully sends what is buffered and then a close frame; melody's WriteWait bounds it.
func (t *wsTransport) closeGracefully() {
	if t.sess == nil || t.sess.Close() != nil || t.overflow.Load() {
		t.abort()
	}
}

// write queues one packet in melody's buffer: binary messages as binary frames without a type
// prefix, everything else as a text frame.
func (t *wsTransport) write(p Packet) error {
	var err error
	if p.Binary {
		err = t.sess.WriteBinary(p.Data)
	} else {
		err = t.sess.Write(AppendPacket(make([]byte, 0, 1+len(p.Data)), p))
	}
	switch {
	case t.overflow.Load():
		return errOverflow
	case err != nil:
		return errTransportClosed
	}
	return nil
}

// closeReason maps the error that ended the WebSocket to an official close reason.
func (t *wsTransport) closeReason() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if errors.Is(t.err, websocket.ErrReadLimit) {
		return ReasonTransportError
	}
	return ReasonTransportClose
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, sid string) {
	if !websocket.IsWebSocketUpgrade(r) {
		writeError(w, CodeBadRequest)
		return
	}
	t := &wsTransport{}
	if sid == "" {
		if r.Method != http.MethodGet {
			writeError(w, CodeBadHandshakeMethod)
			return
		}
		t.conn = s.newConn(r, "websocket")
	} else {
		c := s.lookup(sid)
		if c == nil {
			writeError(w, CodeUnknownSID)
			return
		}
		c.mu.Lock()
		ok := !c.closed && c.transport == "polling" && c.probe == nil
		if ok {
			c.probe = t // reserves the upgrade
		}
		c.mu.Unlock()
		if !ok {
			writeError(w, CodeBadRequest)
			return
		}
		t.conn, t.probe = c, true
	}
	err := s.m.HandleRequestWithKeys(hijackRecorder{w, t}, r, map[string]any{keyTransport: t})
	if err != nil && t.probe {
		t.conn.dropProbe(t)
	}
}

// failProbe returns a func that releases the upgrade reservation before cutting the probe, so
// that the client's next attempt is not refused.
func (c *Conn) failProbe(t *wsTransport) func() {
	return func() {
		c.dropProbe(t)
		t.abort()
	}
}

func (c *Conn) dropProbe(t *wsTransport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.probe == t {
		c.probe = nil
		c.probed = false
	}
}

func (s *Server) wsConnect(sess *melody.Session) {
	t := transportOf(sess)
	t.sess = sess
	s.mu.Lock()
	closing := s.closing
	if !closing {
		s.transports[t] = struct{}{}
	}
	s.mu.Unlock()
	if closing {
		t.abort()
		return
	}
	if t.probe {
		t.timer = time.AfterFunc(s.cfg.UpgradeTimeout, t.conn.failProbe(t))
		return
	}
	c := t.conn
	if !s.register(c, t) {
		t.abort()
		return
	}
	_ = t.write(s.openPacket(c, []string{}))
	c.open()
}

func (s *Server) wsMessage(sess *melody.Session, b []byte, binary bool) {
	t := transportOf(sess)
	c := t.conn
	if t.probe {
		c.onProbeFrame(t, b, binary)
		return
	}
	p := Packet{Type: PacketMessage, Data: b, Binary: true}
	if !binary {
		var err error
		if p, err = DecodePacket(b); err != nil {
			c.closeWith(ReasonParseError, closeError)
			return
		}
	}
	c.mu.Lock()
	active := c.ws == t
	c.mu.Unlock()
	if active {
		c.onPacket(p)
	}
}

// onProbeFrame runs the upgrade: 2probe is answered with 3probe (and the pending GET with a noop);
// 5 moves the session and everything queued to the WebSocket. Anything else drops the probe.
func (c *Conn) onProbeFrame(t *wsTransport, b []byte, binary bool) {
	switch {
	case !binary && string(b) == "2probe":
		c.mu.Lock()
		ok := !c.closed && c.probe == t
		if ok {
			c.probed = true
		}
		c.mu.Unlock()
		if !ok {
			t.abort()
			return
		}
		_ = t.write(Packet{Type: PacketPong, Data: []byte("probe")})
		c.mu.Lock()
		c.signal()
		c.mu.Unlock()
	case !binary && string(b) == "5":
		c.mu.Lock()
		if c.closed || c.probe != t || !c.probed {
			c.mu.Unlock()
			c.failProbe(t)()
			return
		}
		c.probe, c.probed = nil, false
		c.ws, c.transport = t, "websocket"
		var err error
		for _, p := range c.queue {
			if err = t.write(p); err != nil {
				break
			}
		}
		c.queue = nil
		c.signal()
		c.mu.Unlock()
		t.probe = false
		t.timer.Stop()
		if err != nil {
			c.closeWith(ReasonQueueFull, closeAbort)
		}
	default:
		c.failProbe(t)()
	}
}

func (s *Server) wsError(sess *melody.Session, err error) {
	t := transportOf(sess)
	if t == nil {
		return
	}
	switch {
	case errors.Is(err, melody.ErrMessageBufferFull):
		t.overflow.Store(true)
	case errors.Is(err, melody.ErrWriteClosed):
	default:
		t.mu.Lock()
		if t.err == nil {
			t.err = err
		}
		t.mu.Unlock()
	}
}

func (s *Server) wsDisconnect(sess *melody.Session) {
	t := transportOf(sess)
	s.mu.Lock()
	delete(s.transports, t)
	s.mu.Unlock()
	if t.timer != nil {
		t.timer.Stop()
	}
	c := t.conn
	if t.probe {
		c.dropProbe(t)
		return
	}
	c.mu.Lock()
	active := c.ws == t
	c.mu.Unlock()
	if active {
		c.closeWith(t.closeReason(), closeAbort)
	}
}

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

// keyTransport is the melody session key that hands the *wsTransport to the connect handler.
const keyTransport = "engineio.transport"

var (
	errOverflow        = errors.New("engineio: outbound queue full")
	errTransportClosed = errors.New("engineio: transport closed")
)

// melodyBuffer is the capacity of melody's per-session channel. melody allocates it up front for
// every session, so it is kept small; what does not fit waits in the transport's backlog, which
// grows on demand. Together they hold at most Config.QueueSize packets.
const melodyBuffer = 16

// wsPingPeriod is how often melody sends a WebSocket ping (see newMelody).
const wsPingPeriod = 5 * time.Minute

// wsReadBuffer is the size of each WebSocket's read buffer. Clients send small events; a frame
// larger than the buffer is read through it in pieces, and a read as large as the buffer
// bypasses it (bufio), so a small buffer costs a larger frame a few more reads, not copies.
const wsReadBuffer = 256

// refuseWriteWait bounds the close frame of a refused WebSocket (see refuseWebSocket).
const refuseWriteWait = time.Second

// wsTransport is one WebSocket: the active transport of a session, or a probe for an upgrade.
// Its melody handlers (connect, message, disconnect) all run on melody's read loop, the goroutine
// serveWebSocket starts for the upgrade (message packets are handled on a goroutine it waits for).
type wsTransport struct {
	// The outbound queue: melody's channel (melodyBuffer frames), then backlog, in order. A frame
	// goes to melody while nothing waits in the backlog; when melody finds its channel full it
	// drops the frame (and says so: wsError sets full), which then waits in the backlog. From
	// then on each frame melody's write loop writes frees a slot, and wsSent moves the oldest
	// backlog frame into it. The backlog holds at most QueueSize-wsBuffer frames: with it
	// non-empty, melody's channel was full, so together they hold at most QueueSize. It comes
	// first, with what a send reads, in one cache line: a broadcast sends on thousands of these.
	qmu     sync.Mutex
	backlog []frame
	sess    *melody.Session
	conn    *Conn

	// The flags, side by side so that they share a word (a server holds thousands of these).
	full     atomic.Bool // melody dropped the frame just written: its channel was full
	overflow bool        // the backlog overflowed; nothing more is queued; guarded by qmu
	probe    bool        // read and written only on the read loop
	aborted  bool        // guarded by mu

	timer *time.Timer // upgrade timeout of a probe; read loop only
	pc    *probeConn  // a probe's connection, for fences (fence.go); nil if opened on WebSocket
	// released is closed once the upgrade's HTTP request may return (releaseRequest); nil after.
	released chan struct{}

	mu      sync.Mutex
	netConn net.Conn
	err     error // the first error melody reported
}

// frame is one WebSocket message for melody: data, or the close frame of a graceful close.
type frame struct {
	data   []byte
	binary bool
	close  bool
}

func (s *Server) newMelody() *melody.Melody {
	m := melody.New()
	m.Config.MaxMessageSize = s.cfg.MaxPayload
	s.wsBuffer = min(melodyBuffer, s.cfg.QueueSize)
	m.Config.MessageBufferSize = s.wsBuffer
	m.Upgrader.CheckOrigin = s.cfg.CheckOrigin
	// Engine.IO's own heartbeat (PingInterval, PingTimeout) finds dead peers; melody's WebSocket
	// pings (every 54 s by default, with a 60 s read deadline renewed only by their pongs) would
	// be a second heartbeat costing a wake-up and a frame per socket. They stay as a backstop
	// for a peer that answers neither, far apart.
	m.Config.PingPeriod = wsPingPeriod
	m.Config.PongWait = wsPingPeriod + s.cfg.PingInterval + s.cfg.PingTimeout
	// An idle WebSocket keeps only a small read buffer: clients send small events (gorilla reads
	// larger frames through it in pieces), and the write buffer is taken from a pool for each
	// message and given back once it is flushed. The request's own 4 KB buffers are let go with
	// the request (see upgradeWriter). Frames are the same either way: gorilla writes a message
	// as one frame whatever the buffer size.
	m.Upgrader.ReadBufferSize = wsReadBuffer
	m.Upgrader.WriteBufferSize = 0
	m.Upgrader.WriteBufferPool = &s.wsWritePool
	m.HandleConnect(s.wsConnect)
	m.HandleMessage(func(sess *melody.Session, b []byte) { s.wsMessage(sess, b, false) })
	m.HandleMessageBinary(func(sess *melody.Session, b []byte) { s.wsMessage(sess, b, true) })
	m.HandleSentMessage(s.wsSent)
	m.HandleSentMessageBinary(s.wsSent)
	m.HandleError(s.wsError)
	m.HandleDisconnect(s.wsDisconnect)
	m.HandlePong(s.wsPong)
	return m
}

// transportOf is the transport of a session, nil before wsConnect and after wsDisconnect.
func (s *Server) transportOf(sess *melody.Session) *wsTransport { return s.sessions.get(sess) }

// upgradeWriter runs melody's upgrade on a goroutine of its own and lets the HTTP request's
// goroutine return as soon as the connection is hijacked. That goroutine's deep stack and the
// buffers net/http keeps for a request (about 10 KB with the response's) would otherwise live as
// long as the WebSocket, because melody runs its read loop on the goroutine that calls it.
// It also records the hijacked connection, so that the server can cut a WebSocket, which melody
// cannot do without first queueing a close frame behind a possibly full buffer.
type upgradeWriter struct {
	http.ResponseWriter
	t *wsTransport
}

// releaseRequest lets the upgrade's HTTP request return; safe to call more than once.
func (t *wsTransport) releaseRequest() {
	t.mu.Lock()
	if t.released != nil {
		close(t.released)
		t.released = nil
	}
	t.mu.Unlock()
}

func (u *upgradeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := u.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("engineio: response does not implement http.Hijacker")
	}
	nc, rw, err := hj.Hijack()
	if err != nil {
		// gorilla answers the error through the response, so the request must wait.
		return nc, rw, err
	}
	u.t.mu.Lock()
	u.t.netConn = nc
	aborted := u.t.aborted
	u.t.mu.Unlock()
	if aborted {
		_ = nc.Close()
	}
	// gorilla no longer touches the response: the request's goroutine may end, and the
	// response (with net/http's buffers) must not be kept by this goroutine's frames.
	u.ResponseWriter = nil
	u.t.releaseRequest()
	var conn net.Conn = nc
	if pc := u.t.pc; pc != nil {
		pc.hijacked(nc)
		conn = pc
	}
	if wrap := u.t.conn.srv.testWrapWebSocket; wrap != nil {
		conn = wrap(conn)
	}
	return conn, rw, nil
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

// closeGracefully sends what is queued and then a close frame; melody's WriteWait bounds each
// write.
func (t *wsTransport) closeGracefully() {
	if t.sess == nil {
		t.abort()
		return
	}
	t.qmu.Lock()
	err := t.enqueueFrame(frame{close: true})
	t.qmu.Unlock()
	if err != nil {
		t.abort()
	}
}

// write queues one packet: binary messages as binary frames without a type prefix, everything
// else as a text frame.
func (t *wsTransport) write(p Packet) error {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	return t.enqueue(p)
}

// writeAll queues packets in order; it stops at the first error.
func (t *wsTransport) writeAll(pkts []Packet) error {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	for _, p := range pkts {
		if err := t.enqueue(p); err != nil {
			return err
		}
	}
	return nil
}

// writeMessages queues message packets in order; it stops at the first error.
func (t *wsTransport) writeMessages(msgs []Message) error {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	for _, m := range msgs {
		var err error
		if m.frame != nil {
			err = t.enqueueFrame(frame{data: m.frame})
		} else {
			err = t.enqueue(Packet{Type: PacketMessage, Data: m.Data, Binary: m.Binary})
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// enqueue hands p to melody when its channel has room and nothing waits before it, and otherwise
// appends it to the backlog; more than QueueSize packets in all is errOverflow. t.qmu must be held.
func (t *wsTransport) enqueue(p Packet) error {
	f := frame{data: p.Data, binary: p.Binary}
	if !p.Binary {
		f.data = AppendPacket(make([]byte, 0, 1+len(p.Data)), p)
	}
	return t.enqueueFrame(f)
}

// enqueueFrame is enqueue for a frame ready to be written. t.qmu must be held.
func (t *wsTransport) enqueueFrame(f frame) error {
	if t.overflow {
		return errOverflow
	}
	srv := t.conn.srv
	if len(t.backlog) == 0 {
		queued, err := t.toMelody(f)
		if err != nil || queued {
			return err
		}
		if srv.cfg.QueueSize <= srv.wsBuffer {
			t.overflow = true
			return errOverflow
		}
		t.backlog = append(t.backlog, f)
		srv.backlogged.Add(1)
		return nil
	}
	if len(t.backlog) >= srv.cfg.QueueSize-srv.wsBuffer {
		t.overflow = true
		return errOverflow
	}
	t.backlog = append(t.backlog, f)
	return nil
}

// toMelody hands f to melody and reports whether melody queued it: false when its channel was
// full and it dropped f. An error means the session is closed. t.qmu must be held.
func (t *wsTransport) toMelody(f frame) (bool, error) {
	t.full.Store(false)
	var err error
	switch {
	case f.close:
		if t.sess.Close() != nil {
			t.abort() // closed already: make sure the connection is cut
			return true, nil
		}
	case f.binary:
		err = t.sess.WriteBinary(f.data)
	default:
		err = t.sess.Write(f.data)
	}
	if err != nil {
		return false, errTransportClosed
	}
	return !t.full.Load(), nil
}

// wsSent runs on melody's write loop after each message frame. That frame's slot in melody's
// channel is free: the oldest backlog frame takes it. Most transports have no backlog, and while
// none has, wsSent returns at once, without finding the session's transport.
func (s *Server) wsSent(sess *melody.Session, _ []byte) {
	if s.backlogged.Load() == 0 {
		return
	}
	t := s.transportOf(sess)
	if t == nil {
		return
	}
	t.qmu.Lock()
	if len(t.backlog) == 0 {
		t.qmu.Unlock()
		return
	}
	// One frame: each frame written frees one slot. If the slot was taken meanwhile (by a frame
	// queued just before the one that found the channel full), melody drops this one too, and
	// the next frame written brings it back here.
	queued, err := t.toMelody(t.backlog[0])
	if queued {
		t.backlog[0] = frame{}
		t.backlog = t.backlog[1:]
	}
	if len(t.backlog) == 0 || err != nil {
		t.backlog = nil // let a grown backlog go
		s.backlogged.Add(-1)
	}
	t.qmu.Unlock()
	if err != nil {
		// Frames could not be queued: the connection must not go on without them.
		t.fail(err)
	}
}

// fail closes the session of an active transport after a failed write, or cuts a probe.
func (t *wsTransport) fail(err error) {
	c := t.conn
	c.mu.Lock()
	active := c.ws == t
	c.mu.Unlock()
	if !active {
		t.abort()
		return
	}
	_ = c.sendFailed(err)
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
		if !s.reserve(t.conn) {
			writeTooMany(w)
			return
		}
	} else {
		c := s.lookup(sid)
		if c == nil {
			writeError(w, CodeUnknownSID)
			return
		}
		t.pc = &probeConn{}
		c.mu.Lock()
		closed := c.closed
		other := c.probe
		ok := !closed && c.transport == "polling" && other == nil
		if ok {
			c.probe = t // reserves the upgrade
		}
		c.mu.Unlock()
		switch {
		case closed:
			writeError(w, CodeBadRequest)
			return
		case !ok:
			if other != nil && !c.awaitFence(other, r) {
				return
			}
			s.refuseWebSocket(w, r)
			return
		}
		t.conn, t.probe = c, true
	}
	released := make(chan struct{})
	t.released = released
	s.wg.Add(1) // the WebSocket's life, for Shutdown; the request holds one until released
	go s.runWebSocket(&upgradeWriter{ResponseWriter: w, t: t}, r, t)
	<-released
}

// runWebSocket upgrades the request and runs the WebSocket's read loop until it ends. It runs on
// a goroutine of its own (see upgradeWriter) and keeps nothing of the request past the upgrade:
// only t is used after melody returns.
func (s *Server) runWebSocket(u *upgradeWriter, r *http.Request, t *wsTransport) {
	defer s.wg.Done()
	err := s.m.HandleRequestWithKeys(u, r, map[string]any{keyTransport: t})
	if err != nil && t.probe {
		t.conn.dropProbe(t)
	}
	if err != nil && !t.probe {
		s.release(t.conn) // the upgrade failed: the session never opened
	}
	t.releaseRequest()
}

// refuseWebSocket completes the handshake of a WebSocket that the session has no use for (it is
// on WebSocket already, or another one is being probed, whose fence the caller has waited for)
// and closes it at once, with an empty close frame, as the official server does: to the client
// this is a socket closed by the server, not a failed handshake. It runs on the request's
// goroutine and never reaches melody.
func (s *Server) refuseWebSocket(w http.ResponseWriter, r *http.Request) {
	u := websocket.Upgrader{
		ReadBufferSize:  wsReadBuffer,
		WriteBufferPool: &s.wsWritePool,
		CheckOrigin:     s.cfg.CheckOrigin,
	}
	ws, err := u.Upgrade(w, r, nil)
	if err != nil {
		return // gorilla has answered the request
	}
	_ = ws.WriteControl(websocket.CloseMessage, []byte{}, time.Now().Add(refuseWriteWait))
	_ = ws.Close()
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
	if c.probe == t {
		c.probe = nil
		c.probed = false
	}
	c.mu.Unlock()
	// A GET waiting on the probe's fence goes on as on a session without a probe.
	t.pc.lift()
}

func (s *Server) wsConnect(sess *melody.Session) {
	t := sess.Keys[keyTransport].(*wsTransport)
	t.sess = sess
	// melody keeps the upgrade request and the keys map for its users. The Engine.IO session
	// has its own copy of the handshake request, and the transport is found in s.sessions from
	// now on, so neither needs to live as long as the socket. Nothing else touches the session
	// yet: its write loop starts after this handler.
	sess.Request, sess.Keys = nil, nil
	s.mu.Lock()
	closing := s.closing
	s.sessions.put(sess, t)
	s.mu.Unlock()
	if closing {
		t.abort()
		return
	}
	if t.probe {
		t.timer = time.AfterFunc(s.cfg.UpgradeTimeout, t.conn.failProbe(t))
		t.pc.connected()
		return
	}
	c := t.conn
	if !s.register(c, t) {
		s.release(c)
		t.abort()
		return
	}
	_ = t.write(s.openPacket(c, []string{}))
	c.open()
}

// handlerGoroutines is how many goroutines that handled a packet wait, their stacks grown, for
// the next (warm.Pool): enough for the packets handled at once on a busy server, and at most
// some hundreds of KB of stacks.
const handlerGoroutines = 64

// handleOffLoop runs fn on another goroutine and waits for it, so that the packet is handled in
// order as before. melody calls its message handler on its read loop's goroutine, and a
// goroutine's stack grows to the deepest call it made but, once parked, only shrinks while it
// uses less than a quarter of it: decoding a Socket.IO packet and running the application's
// handlers left every idle socket's read loop with an 8 KB stack where its parked read needs
// 4 KB. The goroutine comes from a pool whose goroutines keep their grown stacks between
// packets: a goroutine started for each packet grew its stack by copying every time, a tenth
// of the server's CPU during a connect storm.
func (s *Server) handleOffLoop(fn func()) {
	done := make(chan struct{})
	s.handlers.Go(func() {
		defer close(done)
		fn()
	})
	<-done
}

func (s *Server) wsMessage(sess *melody.Session, b []byte, binary bool) {
	t := s.transportOf(sess)
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
	switch {
	case !active:
	case p.Type == PacketMessage: // pings and pongs are shallow: no hop for the heartbeat
		s.handleOffLoop(func() { c.onPacket(p) })
	default:
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
		c.mu.Unlock()
		if !ok {
			t.abort()
			return
		}
		// Written here rather than queued for melody's write loop, so that it is on the wire
		// before the read loop reads the upgrade packet: nothing 5 causes (a GET's 400, a
		// second WebSocket refused, queued packets) can reach the client first (fence.go).
		if err := t.pc.answerProbe(); err != nil {
			c.failProbe(t)()
			return
		}
		// The pending GET ends with a noop, after 3probe as with the official server.
		c.mu.Lock()
		if !c.closed && c.probe == t {
			c.probed = true
			c.signal()
		}
		c.mu.Unlock()
	case !binary && string(b) == "5":
		// From here on the WebSocket may carry large frames: fences write no more pings.
		t.pc.upgrading()
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
		// A GET waiting on the fence now finds the session on WebSocket.
		t.pc.lift()
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
	t := s.transportOf(sess)
	if t == nil {
		return
	}
	switch {
	case errors.Is(err, melody.ErrMessageBufferFull):
		t.full.Store(true)
	case errors.Is(err, melody.ErrWriteClosed):
	default:
		t.mu.Lock()
		if t.err == nil {
			t.err = err
		}
		t.mu.Unlock()
	}
}

// wsPong runs on the read loop for each pong: it may answer a fence's ping (fence.go).
func (s *Server) wsPong(sess *melody.Session) {
	if t := s.transportOf(sess); t != nil && t.pc != nil {
		t.pc.onPong()
	}
}

func (s *Server) wsDisconnect(sess *melody.Session) {
	t := s.transportOf(sess)
	s.sessions.remove(sess)
	if t.timer != nil {
		t.timer.Stop()
	}
	t.qmu.Lock()
	if t.backlog != nil {
		t.backlog = nil
		s.backlogged.Add(-1)
	}
	t.qmu.Unlock()
	if t.pc != nil {
		t.pc.lift()
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

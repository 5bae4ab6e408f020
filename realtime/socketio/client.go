package socketio

import (
	"encoding/json"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/pagespace/pagespace/realtime/engineio"
)

// client is the Socket.IO side of one Engine.IO connection: the decoder, the sockets it holds
// (one per namespace) and the worker that runs the user callbacks.
//
// Callbacks run on one goroutine per connection at a time, in the order the packets arrived,
// never on the Engine.IO read path: a handler may therefore wait for an acknowledgement
// (EmitWithAck) without stalling the packets that carry it. ACK packets are matched on the read
// path itself. The worker goroutine is started when a task is queued and none is running, and it
// exits once the queue is empty, so that an idle connection holds no goroutine of its own.
type client struct {
	srv  *Server
	conn engineConn
	dec  Decoder // read path only

	mu        sync.Mutex
	sockets   []*Socket // connected sockets, one per namespace (a few: a slice, not a map)
	queue     []task
	npackets  int  // packets received and not yet handled
	closing   bool // no more packets accepted
	running   bool // a worker goroutine is draining queue
	connected bool // a namespace was joined once: the connect timeout is off
	timer     *time.Timer
}

// task is a received packet to handle, or a notification (fn) that runs even after close.
type task struct {
	pkt *Packet
	fn  func()
}

func newClient(s *Server, c engineConn) *client {
	return &client{
		srv:  s,
		conn: c,
		dec:  Decoder{MaxAttachments: s.cfg.MaxAttachments, MaxBytes: s.cfg.MaxPacketBytes},
	}
}

// socket is the connected socket of namespace nsp, nil if none. c.mu must be held.
func (c *client) socket(nsp string) *Socket {
	for _, s := range c.sockets {
		if s.ns.name == nsp {
			return s
		}
	}
	return nil
}

// socketOf is socket, taking c.mu.
func (c *client) socketOf(nsp string) *Socket {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.socket(nsp)
}

// start arms the connect timeout; the client must be findable by its conn first, since the
// timeout may close it at once.
func (c *client) start() {
	c.mu.Lock()
	c.timer = time.AfterFunc(c.srv.cfg.ConnectTimeout, c.connectTimeout)
	c.mu.Unlock()
}

func (c *client) connectTimeout() {
	c.mu.Lock()
	expired := !c.connected && !c.closing
	c.mu.Unlock()
	if expired {
		c.conn.Close(closeConnectTimeout)
	}
}

// signal starts the worker for what was just queued unless one is running. c.mu must be held.
func (c *client) signal() {
	if c.running {
		return
	}
	c.running = true
	c.srv.workers.Add(1)
	c.srv.pool.Go(c.run)
}

// run is the worker: it runs the queued tasks in order and exits when none is left. Only one runs
// at a time (running), so callbacks of one connection never overlap.
func (c *client) run() {
	defer c.srv.workers.Done()
	for {
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.running = false
			c.mu.Unlock()
			return
		}
		q := c.queue
		c.queue = nil
		c.mu.Unlock()
		for _, t := range q {
			c.runTask(t)
		}
	}
}

func (c *client) runTask(t task) {
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("socketio: handler panic", "sid", c.conn.ID(), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.conn.Close(closeHandlerPanic)
		}
	}()
	if t.fn != nil {
		t.fn()
		return
	}
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if !closing {
		c.handle(t.pkt)
	}
	c.mu.Lock()
	if c.npackets > 0 {
		c.npackets--
	}
	c.mu.Unlock()
}

// notify queues fn to run on the worker, after close too. c.mu must be held.
func (c *client) notify(fn func()) {
	c.queue = append(c.queue, task{fn: fn})
	c.signal()
}

// onMessage runs on the Engine.IO read path.
func (c *client) onMessage(m engineio.Message) {
	p, err := c.dec.Add(m)
	if err != nil {
		c.srv.log.Debug("socketio: closing connection", "sid", c.conn.ID(), "err", err)
		c.conn.Close(ReasonParseError)
		return
	}
	if p == nil {
		return
	}
	switch p.Type {
	case PacketAck, PacketBinaryAck:
		if s := c.socketOf(p.Namespace); s != nil {
			s.onAck(p)
		}
	case PacketConnect, PacketDisconnect, PacketEvent, PacketBinaryEvent:
		c.mu.Lock()
		if c.closing {
			c.mu.Unlock()
			return
		}
		if c.npackets >= c.srv.cfg.MaxPendingPackets {
			c.mu.Unlock()
			c.conn.Close(closeTooManyPackets)
			return
		}
		c.npackets++
		c.queue = append(c.queue, task{pkt: p})
		c.signal()
		c.mu.Unlock()
	default: // a client never sends CONNECT_ERROR
		c.srv.log.Debug("socketio: closing connection", "sid", c.conn.ID(), "err", "unexpected "+p.Type.String())
		c.conn.Close(ReasonParseError)
	}
}

// onClose runs once, when the Engine.IO connection is gone.
func (c *client) onClose(reason string) {
	c.mu.Lock()
	if c.closing {
		// Already marked (only onClose sets it).
		c.mu.Unlock()
		return
	}
	c.closing = true
	if c.timer != nil {
		c.timer.Stop()
	}
	kept := c.queue[:0]
	for _, t := range c.queue {
		if t.fn != nil {
			kept = append(kept, t)
		}
	}
	c.queue, c.npackets = kept, 0
	for _, s := range slices.Clone(c.sockets) { // closeLocked removes each from c.sockets
		s.closeLocked(reason)
	}
	c.mu.Unlock()
}

func (c *client) handle(p *Packet) {
	switch p.Type {
	case PacketConnect:
		c.handleConnect(p)
	case PacketDisconnect:
		if s := c.socketOf(p.Namespace); s != nil {
			s.close(ReasonClientNamespaceDisconnect)
		}
	case PacketEvent, PacketBinaryEvent:
		if s := c.socketOf(p.Namespace); s != nil && s.Connected() {
			s.ns.dispatch(s, p)
		}
	}
}

type connectErrorPayload struct {
	Message string `json:"message"`
	Data    any    `json:"data,omitempty"`
}

func (c *client) sendPacket(p *Packet) {
	msgs, err := p.Encode()
	if err != nil {
		c.srv.log.Error("socketio: encode", "err", err)
		return
	}
	_ = c.conn.Send(msgs...)
}

func (c *client) refuse(nsp string, e connectErrorPayload) {
	data, err := json.Marshal(e)
	if err != nil {
		data, _ = json.Marshal(connectErrorPayload{Message: e.Message})
	}
	c.sendPacket(&Packet{Type: PacketConnectError, Namespace: nsp, Data: data})
}

func (c *client) handleConnect(p *Packet) {
	ns := c.srv.namespace(p.Namespace)
	if ns == nil {
		c.refuse(p.Namespace, connectErrorPayload{Message: "Invalid namespace"})
		return
	}
	if c.socketOf(p.Namespace) != nil {
		return // a duplicate CONNECT
	}
	s := newSocket(ns, c, p.Data)
	ns.add(s)
	if err := ns.runMiddleware(s); err != nil {
		s.abort()
		ce := connectErrorPayload{Message: err.Error()}
		if e, ok := err.(*ConnectError); ok {
			ce = connectErrorPayload{Message: e.Message, Data: e.Data}
		}
		c.refuse(p.Namespace, ce)
		return
	}
	reply := map[string]string{"sid": s.id}
	if r := c.srv.cfg.Recovery; r != nil {
		pid, offset, ok := recoveryAuth(p.Data)
		recovered := ok && r.Recover != nil && r.Recover(s, pid, offset)
		if !recovered {
			pid = r.NewPID(s)
		}
		s.setSession(pid, recovered)
		reply["pid"] = pid
	}
	data, _ := json.Marshal(reply)
	msgs, err := (&Packet{Type: PacketConnect, Namespace: p.Namespace, Data: data}).Encode()
	if err != nil {
		s.abort()
		return
	}
	c.mu.Lock()
	if c.closing || s.state.Load() == stateClosed {
		c.mu.Unlock()
		s.abort()
		return
	}
	c.sockets = append(c.sockets, s)
	first := !c.connected
	if first {
		c.connected = true
		c.timer.Stop()
		c.timer = nil // an idle connection keeps no timer of its own
	}
	c.mu.Unlock()
	if a, ok := c.conn.(interface{ Admit() }); ok && first {
		a.Admit() // authenticated: the session stops counting as pending for its address
	}
	if !s.markConnected(msgs) {
		return // closed meanwhile; its cleanup ran and OnDisconnect will not run
	}
	s.announced = true
	ns.connected(s)
	s.forgetHandshake()
}

// recoveryAuth extracts the pid and offset a reconnecting client merges into its CONNECT auth.
func recoveryAuth(auth json.RawMessage) (pid, offset string, ok bool) {
	if auth == nil {
		return "", "", false
	}
	var a struct {
		PID    any `json:"pid"`
		Offset any `json:"offset"`
	}
	if json.Unmarshal(auth, &a) != nil {
		return "", "", false
	}
	pid, ok = a.PID.(string)
	if !ok || pid == "" {
		return "", "", false
	}
	offset, _ = a.Offset.(string)
	return pid, offset, true
}

// disconnectAll sends DISCONNECT for every namespace, then closes the transport.
func (c *client) disconnectAll() {
	c.mu.Lock()
	socks := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		socks = append(socks, s)
	}
	c.mu.Unlock()
	for _, s := range socks {
		s.Disconnect(false)
	}
	c.conn.Close(closeForced)
}

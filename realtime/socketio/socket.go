package socketio

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagespace/pagespace/realtime/engineio"
)

const (
	stateConnecting int32 = iota // middleware and recovery run; sends are held back
	stateConnected
	stateClosed
)

// Handshake describes how a socket connected.
//
// Auth and Request are inputs of the connect: the middleware, the recovery hook and the OnConnect
// handlers see them; once those have run they are let go (nil), so that a connected socket does
// not hold its token and its handshake's headers for its whole life.
type Handshake struct {
	// Auth is the CONNECT payload exactly as received (a JSON object), nil when the client sent
	// none. A reconnecting client's pid and offset are in it.
	Auth json.RawMessage
	// Request is the Engine.IO handshake request (headers, cookies, query, remote address),
	// nil for a namespace joined after the connection's first (engineio.Conn.Request).
	// Its body must not be read.
	Request *http.Request
	// Time is when the CONNECT packet was handled.
	Time time.Time
}

// AckFunc answers a client's acknowledgement request with args ([]byte arguments travel as binary
// attachments). It may be called from any goroutine, once; later calls return ErrAckSent.
type AckFunc func(args ...any) error

// Socket is one client's connection to one namespace. Its methods are safe for concurrent use.
type Socket struct {
	// What a broadcast reads for every recipient comes first, together: its state, whether sends
	// are direct, its client (for the connection) and its data.
	state  atomic.Int32
	direct atomic.Bool // connected and what was held handed over: sends skip sendMu
	c      *client
	data   atomic.Value // SetData/Data

	id        string
	ns        *Namespace
	hs        Handshake
	announced bool // OnConnect handlers ran; worker goroutine only

	sendMu  sync.Mutex // orders sends until direct; guards pending
	pending []engineio.Message

	mu        sync.Mutex
	rooms     []string // the rooms joined, its own id room aside; a few, so a slice beats a map
	acks      map[uint64]chan Args
	nextAck   uint64
	pid       string
	recovered bool
	onClose   []func()
}

func newSocket(ns *Namespace, c *client, auth json.RawMessage) *Socket {
	return &Socket{
		id: randomID(),
		ns: ns,
		c:  c,
		// A copy: auth is a slice of the whole CONNECT message, which a middleware that keeps
		// auth would otherwise keep whole.
		hs: Handshake{Auth: bytes.Clone(auth), Request: c.conn.Request(), Time: time.Now()},
	}
}

// ID is the socket id, also the name of a room holding only this socket. That room is not kept
// in the room index: the namespace finds the socket by its id (Namespace.members).
func (s *Socket) ID() string { return s.id }

// Namespace is the namespace the socket belongs to.
func (s *Socket) Namespace() *Namespace { return s.ns }

// Handshake describes the connection.
func (s *Socket) Handshake() Handshake {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hs
}

// forgetHandshake lets go of the connect's inputs once the socket has connected (see Handshake).
func (s *Socket) forgetHandshake() {
	s.mu.Lock()
	s.hs.Auth, s.hs.Request = nil, nil
	s.mu.Unlock()
}

// ConnID is the id of the underlying Engine.IO session, shared by the sockets of its namespaces.
func (s *Socket) ConnID() string { return s.c.conn.ID() }

// Connected reports whether the socket has joined its namespace and is not yet disconnected.
func (s *Socket) Connected() bool { return s.state.Load() == stateConnected }

// PID is the private session id sent in the CONNECT reply; "" when recovery is off.
// It is set before the recovery hook returns and before OnConnect handlers run.
func (s *Socket) PID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pid
}

// Recovered reports whether the recovery hook restored the client's previous session.
func (s *Socket) Recovered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recovered
}

func (s *Socket) setSession(pid string, recovered bool) {
	s.mu.Lock()
	s.pid, s.recovered = pid, recovered
	s.mu.Unlock()
}

// SetData attaches v to the socket for its life, like socket.data in Socket.IO; Data returns it.
// v must not be nil, and every call on one socket must pass a value of the same type.
func (s *Socket) SetData(v any) { s.data.Store(v) }

// Data returns what SetData attached, or nil. It takes no lock: a broadcast reads it for every
// recipient.
func (s *Socket) Data() any { return s.data.Load() }

// Join adds the socket to rooms. It does nothing once the socket is disconnected. The socket is
// always in its own id room.
func (s *Socket) Join(rooms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Load() == stateClosed {
		return
	}
	for _, r := range rooms {
		if r == s.id || slices.Contains(s.rooms, r) {
			continue
		}
		s.rooms = append(s.rooms, r)
		s.ns.rooms.add(r, s)
	}
}

// Leave removes the socket from rooms. The socket stays in its own id room until it disconnects.
func (s *Socket) Leave(rooms ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range rooms {
		i := slices.Index(s.rooms, r)
		if i < 0 {
			continue
		}
		s.rooms = slices.Delete(s.rooms, i, i+1)
		s.ns.rooms.remove(r, s)
	}
}

// Rooms lists the rooms the socket is in, its own id room first; none once it is disconnected.
func (s *Socket) Rooms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.Load() == stateClosed {
		return nil
	}
	return append([]string{s.id}, s.rooms...)
}

// Emit sends an event to this client. Arguments are marshalled with encoding/json, except that a
// []byte is sent as a binary attachment and a json.RawMessage as is. While the socket is still
// connecting (in middleware or the recovery hook) the event is held and sent after the CONNECT
// reply. It returns ErrDisconnected once the socket is gone.
func (s *Socket) Emit(event string, args ...any) error {
	p, err := eventPacket(s.ns.name, event, args)
	if err != nil {
		return err
	}
	return s.sendPacket(p)
}

// EmitWithOffset emits an event whose last argument is offset, the position a recovering client
// reports back in its CONNECT auth.
func (s *Socket) EmitWithOffset(event, offset string, args ...any) error {
	return s.Emit(event, withOffset(args, offset)...)
}

func withOffset(args []any, offset string) []any {
	out := make([]any, len(args), len(args)+1)
	copy(out, args)
	return append(out, offset)
}

// EmitWithAck emits an event and waits for the client's acknowledgement. It returns the ack
// arguments, ErrAckTimeout after Config.AckTimeout, ctx's error when ctx ends first, or
// ErrDisconnected when the socket goes away. The answer arrives on the connection's read path, so
// calling EmitWithAck from an event handler is fine.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (Args, error) {
	p, err := eventPacket(s.ns.name, event, args)
	if err != nil {
		return Args{}, err
	}
	ch := make(chan Args, 1)
	s.mu.Lock()
	if s.state.Load() == stateClosed {
		s.mu.Unlock()
		return Args{}, ErrDisconnected
	}
	id := s.nextAck
	s.nextAck++
	if s.acks == nil {
		s.acks = make(map[uint64]chan Args)
	}
	s.acks[id] = ch
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.acks, id)
		s.mu.Unlock()
	}()

	p.ID, p.HasID = id, true
	if err := s.sendPacket(p); err != nil {
		return Args{}, err
	}
	if t := s.c.srv.cfg.AckTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, t, ErrAckTimeout)
		defer cancel()
	}
	select {
	case a, ok := <-ch:
		if !ok {
			return Args{}, ErrDisconnected
		}
		return a, nil
	case <-ctx.Done():
		return Args{}, context.Cause(ctx)
	}
}

func (s *Socket) onAck(p *Packet) {
	s.mu.Lock()
	ch := s.acks[p.ID]
	delete(s.acks, p.ID)
	s.mu.Unlock()
	if ch != nil {
		ch <- Args{raw: p.elems, attachments: p.Attachments}
	}
}

func (s *Socket) ackFunc(id uint64) AckFunc {
	var sent atomic.Bool
	return func(args ...any) error {
		if sent.Swap(true) {
			return ErrAckSent
		}
		p, err := ackPacket(s.ns.name, id, args)
		if err != nil {
			sent.Store(false)
			return err
		}
		return s.sendPacket(p)
	}
}

func (s *Socket) sendPacket(p *Packet) error {
	msgs, err := p.Encode()
	if err != nil {
		return err
	}
	return s.send(msgs)
}

// send queues already encoded messages: held while connecting, handed to the engine once
// connected. It never blocks on the network. Nothing reached from Conn.Send or Conn.Close
// (which may call OnClose synchronously) takes sendMu.
//
// Once markConnected has handed over what was held (direct), sends go straight to the
// connection, which orders them, without sendMu (a broadcast would take it once per recipient):
// direct is set under sendMu after the hand-over, so nothing sent after it can pass what was held.
func (s *Socket) send(msgs []engineio.Message) error {
	if s.direct.Load() && s.state.Load() == stateConnected {
		if err := s.c.conn.Send(msgs...); err != nil {
			return errors.Join(ErrDisconnected, err)
		}
		return nil
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	switch s.state.Load() {
	case stateConnecting:
		if len(s.pending)+len(msgs) > s.c.srv.pendingLimit() {
			s.c.conn.Close(closeTooManyPackets)
			return ErrDisconnected
		}
		s.pending = append(s.pending, msgs...)
		return nil
	case stateConnected:
		if err := s.c.conn.Send(msgs...); err != nil {
			return errors.Join(ErrDisconnected, err)
		}
		return nil
	}
	return ErrDisconnected
}

func (srv *Server) pendingLimit() int {
	if q := srv.cfg.Engine.QueueSize; q > 0 {
		return q
	}
	return 1024
}

// markConnected sends the CONNECT reply followed by what was emitted meanwhile, and opens the
// socket to direct sends. It fails when the socket was closed in between.
func (s *Socket) markConnected(reply []engineio.Message) bool {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if !s.state.CompareAndSwap(stateConnecting, stateConnected) {
		return false
	}
	msgs := append(reply, s.pending...)
	s.pending = nil
	_ = s.c.conn.Send(msgs...)
	s.direct.Store(true)
	return true
}

// Broadcast selects every socket of the namespace but this one; chain To to narrow it to rooms.
func (s *Socket) Broadcast() Operator { return s.ns.Except(s.id) }

// To selects the sockets in rooms, except this one (as upstream socket.to does).
func (s *Socket) To(rooms ...string) Operator { return s.ns.To(rooms...).Except(s.id) }

// Disconnect leaves the namespace. With close false a DISCONNECT packet tells the client, which
// then does not reconnect; the transport stays open for other namespaces. With close true every
// namespace of the connection is disconnected that way and the transport is closed.
// OnDisconnect handlers see "server namespace disconnect".
func (s *Socket) Disconnect(close bool) {
	if close {
		s.c.disconnectAll()
		return
	}
	if s.state.Load() == stateClosed {
		return
	}
	_ = s.sendPacket(&Packet{Type: PacketDisconnect, Namespace: s.ns.name})
	s.close(ReasonServerNamespaceDisconnect)
}

// CloseTransport closes the connection's transport without a DISCONNECT packet, as a lost
// network would: the client reconnects (and may recover). Every socket of the connection ends
// with reason; OnDisconnect handlers see it.
func (s *Socket) CloseTransport(reason string) { s.c.conn.Close(reason) }

// close disconnects the socket with reason, once.
func (s *Socket) close(reason string) {
	s.c.mu.Lock()
	s.closeLocked(reason)
	s.c.mu.Unlock()
}

// closeLocked moves the socket to closed, takes it out of its rooms and namespace, fails its
// pending acknowledgements and queues its OnDisconnect handlers, all under c.mu so that the
// worker cannot exit or run the handlers before the socket is gone everywhere.
func (s *Socket) closeLocked(reason string) bool {
	if s.state.Swap(stateClosed) == stateClosed {
		return false
	}
	s.c.sockets = slices.DeleteFunc(s.c.sockets, func(x *Socket) bool { return x == s })
	s.cleanup()
	s.c.notify(func() {
		if s.announced {
			s.ns.disconnected(s, reason)
		}
		s.runOnClose()
	})
	return true
}

// abort drops a socket that never connected; no OnDisconnect. It runs on the worker.
func (s *Socket) abort() {
	s.state.Store(stateClosed)
	s.cleanup()
	s.runOnClose()
}

// OnClose registers fn to run once when the socket ends, whether it connected or was dropped
// before (refused by a later middleware, closed during recovery): on the worker goroutine, after
// the OnDisconnect handlers of a socket that connected. A middleware that reserves something
// for the socket releases it here. fn must not block.
func (s *Socket) OnClose(fn func()) {
	s.mu.Lock()
	s.onClose = append(s.onClose, fn)
	s.mu.Unlock()
}

func (s *Socket) runOnClose() {
	s.mu.Lock()
	fns := s.onClose
	s.onClose = nil
	s.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

// cleanup leaves every room, leaves the namespace and fails pending acknowledgements.
func (s *Socket) cleanup() {
	s.mu.Lock()
	for _, r := range s.rooms {
		s.ns.rooms.remove(r, s)
	}
	s.rooms = nil
	for id, ch := range s.acks {
		close(ch)
		delete(s.acks, id)
	}
	s.mu.Unlock()
	s.ns.remove(s)
}

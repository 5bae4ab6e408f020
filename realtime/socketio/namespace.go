package socketio

import (
	"encoding/json"
	"sync"
)

// Middleware decides whether a socket may join a namespace. It runs before OnConnect and before
// the recovery hook, and may Join rooms and Set data. Returning a *ConnectError refuses the socket
// with its message and data; any other error refuses it with err.Error() as the message.
type Middleware func(s *Socket, auth json.RawMessage) error

// ConnectError is the refusal a Middleware returns; the client receives it as a connect_error
// whose message is Message and whose data is Data (omitted when nil).
type ConnectError struct {
	Message string
	Data    any
}

// Error returns the message.
func (e *ConnectError) Error() string { return e.Message }

// EventHandler handles one event. ack is nil when the client did not ask for an acknowledgement.
type EventHandler func(s *Socket, args Args, ack AckFunc)

// AnyHandler sees every event of the namespace before its own handler.
type AnyHandler func(s *Socket, event string, args Args, ack AckFunc)

// Namespace is a communication channel multiplexed over the connections (upstream's namespace).
// Handlers are usually registered before the server serves, but may be added at any time.
//
// All callbacks for the sockets of one connection run on one goroutine in packet order:
// middleware, the recovery hook, OnConnect, event handlers, OnDisconnect.
type Namespace struct {
	srv  *Server
	name string

	hmu          sync.RWMutex
	middleware   []Middleware
	onConnect    []func(*Socket)
	onDisconnect []func(*Socket, string)
	handlers     map[string]EventHandler
	onAny        []AnyHandler

	rooms roomIndex // the rooms sockets joined; a socket's own id room is sockets

	smu     sync.RWMutex
	sockets map[string]*Socket // by id, from the CONNECT until the socket is gone
}

func newNamespace(srv *Server, name string) *Namespace {
	ns := &Namespace{srv: srv, name: name, handlers: make(map[string]EventHandler), sockets: make(map[string]*Socket)}
	ns.rooms.init()
	return ns
}

// Name is the namespace name, e.g. "/".
func (ns *Namespace) Name() string { return ns.name }

// Use appends a connect middleware.
func (ns *Namespace) Use(m Middleware) {
	ns.hmu.Lock()
	defer ns.hmu.Unlock()
	ns.middleware = append(ns.middleware, m)
}

// OnConnect registers fn, called once the client has received the CONNECT reply.
func (ns *Namespace) OnConnect(fn func(*Socket)) {
	ns.hmu.Lock()
	defer ns.hmu.Unlock()
	ns.onConnect = append(ns.onConnect, fn)
}

// OnDisconnect registers fn, called once per connected socket when it leaves the namespace, with
// one of the Reason* values (or the Engine.IO close reason), after the socket left its rooms.
func (ns *Namespace) OnDisconnect(fn func(s *Socket, reason string)) {
	ns.hmu.Lock()
	defer ns.hmu.Unlock()
	ns.onDisconnect = append(ns.onDisconnect, fn)
}

// On sets the handler of event, replacing any previous one. Events without a handler are ignored.
func (ns *Namespace) On(event string, h EventHandler) {
	ns.hmu.Lock()
	defer ns.hmu.Unlock()
	ns.handlers[event] = h
}

// OnAny registers h, called for every event before the event's own handler.
func (ns *Namespace) OnAny(h AnyHandler) {
	ns.hmu.Lock()
	defer ns.hmu.Unlock()
	ns.onAny = append(ns.onAny, h)
}

func (ns *Namespace) runMiddleware(s *Socket) error {
	ns.hmu.RLock()
	mw := ns.middleware
	ns.hmu.RUnlock()
	for _, m := range mw {
		if err := m(s, s.Handshake().Auth); err != nil {
			return err
		}
	}
	return nil
}

func (ns *Namespace) connected(s *Socket) {
	ns.hmu.RLock()
	fns := ns.onConnect
	ns.hmu.RUnlock()
	for _, fn := range fns {
		fn(s)
	}
}

func (ns *Namespace) disconnected(s *Socket, reason string) {
	ns.hmu.RLock()
	fns := ns.onDisconnect
	ns.hmu.RUnlock()
	for _, fn := range fns {
		fn(s, reason)
	}
}

func (ns *Namespace) dispatch(s *Socket, p *Packet) {
	var name string
	if json.Unmarshal(p.elems[0], &name) != nil {
		return // the decoder checked it
	}
	args := Args{raw: p.elems[1:], attachments: p.Attachments}
	var ack AckFunc
	if p.HasID {
		ack = s.ackFunc(p.ID)
	}
	ns.hmu.RLock()
	anys := ns.onAny
	h := ns.handlers[name]
	ns.hmu.RUnlock()
	for _, fn := range anys {
		fn(s, name, args, ack)
	}
	if h != nil {
		h(s, args, ack)
	}
}

func (ns *Namespace) add(s *Socket) {
	ns.smu.Lock()
	ns.sockets[s.id] = s
	ns.smu.Unlock()
}

func (ns *Namespace) remove(s *Socket) {
	ns.smu.Lock()
	if ns.sockets[s.id] == s {
		delete(ns.sockets, s.id)
	}
	ns.smu.Unlock()
}

// byID is the socket whose id is id (in its own id room), connected or not; nil if none.
func (ns *Namespace) byID(id string) *Socket {
	ns.smu.RLock()
	defer ns.smu.RUnlock()
	return ns.sockets[id]
}

// members appends the sockets in room to dst: those that joined it, and the socket whose id it is.
func (ns *Namespace) members(dst []*Socket, room string) []*Socket {
	dst = ns.rooms.appendMembers(dst, room)
	if s := ns.byID(room); s != nil {
		dst = append(dst, s)
	}
	return dst
}

// Socket returns the connected socket with id.
func (ns *Namespace) Socket(id string) (*Socket, bool) {
	s := ns.byID(id)
	if s == nil || !s.Connected() {
		return nil, false
	}
	return s, true
}

// To selects the sockets in any of rooms (all sockets of the namespace when none is given).
func (ns *Namespace) To(rooms ...string) Operator { return Operator{ns: ns}.To(rooms...) }

// In is To.
func (ns *Namespace) In(rooms ...string) Operator { return ns.To(rooms...) }

// Except selects every socket but those in rooms (a socket id is a room).
func (ns *Namespace) Except(rooms ...string) Operator { return Operator{ns: ns}.Except(rooms...) }

// Emit sends an event to every socket of the namespace.
func (ns *Namespace) Emit(event string, args ...any) error {
	return Operator{ns: ns}.Emit(event, args...)
}

// Sockets returns the connected sockets of the namespace.
func (ns *Namespace) Sockets() []*Socket { return Operator{ns: ns}.Sockets() }

// DisconnectSockets disconnects every socket of the namespace (see Socket.Disconnect).
func (ns *Namespace) DisconnectSockets(close bool) { Operator{ns: ns}.DisconnectSockets(close) }

// RoomSize is the number of sockets in room, counting sockets still connecting.
func (ns *Namespace) RoomSize(room string) int {
	n := ns.rooms.size(room)
	if ns.byID(room) != nil {
		n++
	}
	return n
}

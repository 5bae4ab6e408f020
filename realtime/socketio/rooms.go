package socketio

import (
	"slices"
	"sync"
)

const roomShards = 64

// roomIndex maps room → sockets, sharded by room name so that joins, leaves and broadcasts on
// different rooms rarely contend (as centrifuge's hub does). A broadcast reads one shard per room
// and never looks at sockets outside its rooms.
type roomIndex struct {
	shards [roomShards]roomShard
}

type roomShard struct {
	mu    sync.RWMutex
	rooms map[string]map[*Socket]struct{}
}

func (ri *roomIndex) init() {
	for i := range ri.shards {
		ri.shards[i].rooms = make(map[string]map[*Socket]struct{})
	}
}

func (ri *roomIndex) shard(room string) *roomShard {
	// FNV-1a, inlined to avoid an allocation per lookup.
	h := uint32(2166136261)
	for i := 0; i < len(room); i++ {
		h ^= uint32(room[i])
		h *= 16777619
	}
	return &ri.shards[h%roomShards]
}

func (ri *roomIndex) add(room string, s *Socket) {
	sh := ri.shard(room)
	sh.mu.Lock()
	set := sh.rooms[room]
	if set == nil {
		set = make(map[*Socket]struct{})
		sh.rooms[room] = set
	}
	set[s] = struct{}{}
	sh.mu.Unlock()
}

func (ri *roomIndex) remove(room string, s *Socket) {
	sh := ri.shard(room)
	sh.mu.Lock()
	if set := sh.rooms[room]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(sh.rooms, room)
		}
	}
	sh.mu.Unlock()
}

func (ri *roomIndex) size(room string) int {
	sh := ri.shard(room)
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	return len(sh.rooms[room])
}

// appendMembers appends the members of room to dst.
func (ri *roomIndex) appendMembers(dst []*Socket, room string) []*Socket {
	sh := ri.shard(room)
	sh.mu.RLock()
	set := sh.rooms[room]
	dst = slices.Grow(dst, len(set))
	for s := range set {
		dst = append(dst, s)
	}
	sh.mu.RUnlock()
	return dst
}

// union returns the members of any of rooms, each once. The largest room's snapshot is taken as
// it is; only the members of the other rooms go through a set, so that a broadcast to a large
// page room and a small drive room does not hash every recipient.
func (ns *Namespace) union(rooms []string) []*Socket {
	lists := make([][]*Socket, len(rooms))
	big := 0
	for i, r := range rooms {
		lists[i] = ns.members(nil, r)
		if len(lists[i]) > len(lists[big]) {
			big = i
		}
	}
	var rest map[*Socket]struct{}
	for i, l := range lists {
		if i == big || len(l) == 0 {
			continue
		}
		if rest == nil {
			rest = make(map[*Socket]struct{}, len(l))
		}
		for _, s := range l {
			rest[s] = struct{}{}
		}
	}
	out := lists[big]
	if len(rest) == 0 {
		return out
	}
	for _, s := range out {
		delete(rest, s)
	}
	for s := range rest {
		out = append(out, s)
	}
	return out
}

// Operator selects sockets of a namespace by room, for broadcasting and bulk operations. It is an
// immutable value: To and Except return a new Operator. The selection is taken when an action
// (Emit, Sockets, ...) runs.
type Operator struct {
	ns     *Namespace
	rooms  []string
	except []string
	filter func(*Socket) bool
}

// Filter keeps only the selected sockets for which keep returns true, e.g. to apply a
// per-recipient permission check while still encoding a broadcast once. keep runs when the
// action runs, once per selected socket, without locks held.
func (o Operator) Filter(keep func(*Socket) bool) Operator {
	if prev := o.filter; prev != nil {
		o.filter = func(s *Socket) bool { return prev(s) && keep(s) }
	} else {
		o.filter = keep
	}
	return o
}

// To adds rooms to the selection: sockets in any of them are chosen. No room means every socket.
func (o Operator) To(rooms ...string) Operator {
	o.rooms = append(slices.Clip(o.rooms), rooms...)
	return o
}

// In is To.
func (o Operator) In(rooms ...string) Operator { return o.To(rooms...) }

// Except excludes the sockets in rooms; pass socket ids to exclude single sockets.
func (o Operator) Except(rooms ...string) Operator {
	o.except = append(slices.Clip(o.except), rooms...)
	return o
}

// targets collects the selected sockets without holding any lock afterwards, so that sending
// (which may close a connection and reach the index again) runs unlocked.
func (o Operator) targets() []*Socket {
	out := o.selected()
	if o.filter != nil {
		out = slices.DeleteFunc(out, func(s *Socket) bool { return !o.filter(s) })
	}
	return out
}

func (o Operator) selected() []*Socket {
	var out []*Socket
	switch len(o.rooms) {
	case 0:
		o.ns.smu.RLock()
		out = make([]*Socket, 0, len(o.ns.sockets))
		for _, s := range o.ns.sockets {
			out = append(out, s)
		}
		o.ns.smu.RUnlock()
	case 1:
		out = o.ns.members(nil, o.rooms[0])
	default:
		out = o.ns.union(o.rooms)
	}
	if len(o.except) == 0 || len(out) == 0 {
		return out
	}
	excluded := make(map[*Socket]struct{})
	for _, r := range o.except {
		for _, s := range o.ns.members(nil, r) {
			excluded[s] = struct{}{}
		}
	}
	if len(excluded) == 0 {
		return out
	}
	return slices.DeleteFunc(out, func(s *Socket) bool {
		_, ex := excluded[s]
		return ex
	})
}

// Emit encodes the event once and queues the same bytes on every selected socket. A socket whose
// connection cannot take them is closed by the transport (it then reconnects and recovers); the
// error is only about encoding.
func (o Operator) Emit(event string, args ...any) error {
	msgs, err := EncodeEvent(o.ns.name, event, args...)
	if err != nil {
		return err
	}
	for _, s := range o.targets() {
		_ = s.send(msgs)
	}
	return nil
}

// EmitTo encodes the event once and queues the same bytes on each of sockets: a selection the
// caller took (Operator.Sockets) and decided on itself, so that a broadcast that checks its
// recipients walks its rooms once. Like Emit, its error is only about encoding.
func (ns *Namespace) EmitTo(sockets []*Socket, event string, args ...any) error {
	if len(sockets) == 0 {
		return nil
	}
	msgs, err := EncodeEvent(ns.name, event, args...)
	if err != nil {
		return err
	}
	for _, s := range sockets {
		_ = s.send(msgs)
	}
	return nil
}

// EmitToWithOffset is EmitTo with offset appended as the last argument (see
// Socket.EmitWithOffset).
func (ns *Namespace) EmitToWithOffset(sockets []*Socket, event, offset string, args ...any) error {
	return ns.EmitTo(sockets, event, withOffset(args, offset)...)
}

// EmitWithOffset is Emit with offset appended as the last argument (see Socket.EmitWithOffset).
func (o Operator) EmitWithOffset(event, offset string, args ...any) error {
	return o.Emit(event, withOffset(args, offset)...)
}

// Sockets returns the selected sockets that are connected.
func (o Operator) Sockets() []*Socket {
	return slices.DeleteFunc(o.targets(), func(s *Socket) bool { return !s.Connected() })
}

// DisconnectSockets disconnects the selected sockets (see Socket.Disconnect).
func (o Operator) DisconnectSockets(close bool) {
	for _, s := range o.targets() {
		s.Disconnect(close)
	}
}

// SocketsJoin makes the selected sockets join rooms.
func (o Operator) SocketsJoin(rooms ...string) {
	for _, s := range o.targets() {
		s.Join(rooms...)
	}
}

// SocketsLeave makes the selected sockets leave rooms.
func (o Operator) SocketsLeave(rooms ...string) {
	for _, s := range o.targets() {
		s.Leave(rooms...)
	}
}

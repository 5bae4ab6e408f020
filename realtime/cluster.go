package realtime

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// Bus carries ephemeral messages (presence, typing, cursors, selections) between the processes
// that share a database; they never enter the event log. Send may fail (the message is then
// lost: the broker shares its whole state again later); a message is at most MaxBusMessage
// bytes. The broker calls Send from one goroutine, so a process's messages arrive in order.
type Bus interface {
	Send(ctx context.Context, msg string) error
}

// MaxBusMessage is the largest message the broker hands to a Bus (PostgreSQL's NOTIFY takes
// payloads up to 8,000 bytes).
const MaxBusMessage = 7900

// busMsg is one ephemeral message between processes.
type busMsg struct {
	Proc  string          `json:"p"`            // the sending process
	Kind  string          `json:"k"`            // hb, hello, bye, user, emit, status, sync, synced, delta
	At    int64           `json:"t"`            // sent at, Unix ms (relay lag)
	User  string          `json:"u,omitempty"`  // user: the user
	Agent bool            `json:"ag,omitempty"` // user: the user is an agent
	Name  string          `json:"n,omitempty"`  // user: its name
	State *procState      `json:"s,omitempty"`  // user: its state on Proc; nil when it has no socket there
	Room  string          `json:"r,omitempty"`  // emit: the room
	Event string          `json:"e,omitempty"`  // emit: the event name
	Args  json.RawMessage `json:"a,omitempty"`  // emit: the payload

	Status *busStatus `json:"st,omitempty"` // status: an agent status set or cleared on Proc
	Delta  *piece     `json:"d,omitempty"`  // delta: chunks of a streamed message accepted by Proc
}

// cluster is this process's side of the bus: what it sends, and the leases of the others.
type cluster struct {
	b     *Broker
	bus   Bus
	id    string
	out   chan busMsg
	in    chan string // received, handled on their own goroutine (never the listener's)
	stop  chan struct{}
	done  sync.WaitGroup
	mu    sync.Mutex
	peers map[string]time.Time // process → last heard from
	stale bool                 // a message was lost: share everything again
	deaf  bool                 // a received message was dropped: ask everyone to share again

	lagMillis  int64 // relay lag of the last message received
	reconnects int64 // listener (re)connects after the first
	connects   int64
	lost       int64 // messages not sent
}

// SetBus links the broker to the other processes; call it before Start.
func (b *Broker) SetBus(bus Bus) {
	b.cluster = &cluster{b: b, bus: bus, id: modules.NewID(), out: make(chan busMsg, 4096),
		in: make(chan string, 4096), stop: make(chan struct{}), peers: map[string]time.Time{}}
}

func (k *cluster) start() {
	k.done.Add(3)
	go k.sendLoop()
	go k.leaseLoop()
	go k.receiveLoop()
}

// shutdown tells the others this process is gone and stops the loops.
func (k *cluster) shutdown() {
	k.enqueue(busMsg{Kind: "bye"})
	close(k.stop)
	k.done.Wait()
}

func (k *cluster) enqueue(m busMsg) {
	m.Proc, m.At = k.id, time.Now().UnixMilli()
	select {
	case k.out <- m:
	default:
		k.mu.Lock()
		k.stale = true // a full queue: the next lease renewal shares every user again
		k.lost++
		k.mu.Unlock()
	}
}

func (k *cluster) sendLoop() {
	defer k.done.Done()
	send := func(m busMsg) {
		raw, err := json.Marshal(m)
		if err != nil || len(raw) > MaxBusMessage {
			return
		}
		ctx, cancel := k.b.within(busTimeout)
		defer cancel()
		if err := k.bus.Send(ctx, string(raw)); err != nil {
			k.mu.Lock()
			k.stale = true
			k.lost++
			k.mu.Unlock()
		}
	}
	for {
		select {
		case m := <-k.out:
			send(m)
		case <-k.stop:
			for { // the goodbye, and what was queued before it
				select {
				case m := <-k.out:
					send(m)
				default:
					return
				}
			}
		}
	}
}

// leaseLoop renews this process's lease (a heartbeat) and drops the users of processes whose
// lease ran out.
func (k *cluster) leaseLoop() {
	defer k.done.Done()
	t := time.NewTicker(k.b.cfg.LeaseInterval)
	defer t.Stop()
	for {
		select {
		case <-k.stop:
			return
		case <-t.C:
		}
		k.mu.Lock()
		stale, deaf := k.stale, k.deaf
		k.stale, k.deaf = false, false
		var dead []string
		for p, heard := range k.peers {
			if time.Since(heard) > k.b.cfg.LeaseTTL {
				dead = append(dead, p)
				delete(k.peers, p)
			}
		}
		k.mu.Unlock()
		k.enqueue(busMsg{Kind: "hb"})
		if deaf {
			k.enqueue(busMsg{Kind: "hello"})
		}
		if stale {
			k.shareAll()
		}
		for _, p := range dead {
			k.b.log.Warn("realtime bus: a process's lease ran out", "process", p)
			k.b.roster.dropProcess(p, true)
			k.b.statuses.dropProcess(p)
		}
		k.b.statuses.purge(time.Now().Add(-k.b.cfg.LeaseTTL))
	}
}

// shareAll sends the state of every user with a socket on this process, and the agent
// statuses set here.
func (k *cluster) shareAll() {
	for _, m := range k.b.roster.localStates() {
		k.enqueue(m)
	}
	k.b.statuses.share(k)
}

// shareUser tells the other processes a user's state on this one.
func (b *Broker) shareUser(userID string) {
	if b.cluster == nil {
		return
	}
	b.cluster.enqueue(b.roster.localState(userID))
}

// relay emits an ephemeral event to a room, here (except to the sender, when from is not nil)
// and on the other processes.
func (b *Broker) relay(from *socketio.Socket, room, event string, payload any) {
	op := b.ns.To(room)
	if from != nil {
		op = from.To(room)
	}
	_ = op.Emit(event, payload)
	if b.cluster != nil {
		b.cluster.enqueue(busMsg{Kind: "emit", Room: room, Event: event, Args: mustJSON(payload)})
	}
}

// BusConnected tells the broker that the bus (re)connected: messages may have been missed, so
// every process is asked to share its state again.
func (b *Broker) BusConnected() {
	if b.cluster == nil {
		return
	}
	k := b.cluster
	k.mu.Lock()
	k.connects++
	if k.connects > 1 {
		k.reconnects++
	}
	k.mu.Unlock()
	k.enqueue(busMsg{Kind: "hello"})
	k.shareAll()
}

// Receive takes a message from the bus (from any process, this one included). It does not
// block: the listener that calls it also hands over the event log's notifications.
func (b *Broker) Receive(msg string) {
	k := b.cluster
	if k == nil {
		return
	}
	select {
	case k.in <- msg:
	default:
		k.mu.Lock()
		k.deaf = true
		k.lost++
		k.mu.Unlock()
	}
}

func (k *cluster) receiveLoop() {
	defer k.done.Done()
	for {
		select {
		case <-k.stop:
			return
		case msg := <-k.in:
			k.receive(msg)
		}
	}
}

// receive handles one message; it may read memberships from the database.
func (k *cluster) receive(msg string) {
	b := k.b
	var m busMsg
	if json.Unmarshal([]byte(msg), &m) != nil || m.Proc == "" || m.Proc == k.id {
		return
	}
	k.mu.Lock()
	k.lagMillis = max(0, time.Now().UnixMilli()-m.At)
	_, known := k.peers[m.Proc]
	if m.Kind == "bye" {
		delete(k.peers, m.Proc)
	} else {
		k.peers[m.Proc] = time.Now()
	}
	k.mu.Unlock()
	if !known && m.Kind == "hb" {
		// A process this one has not heard from, or whose lease it let run out (a slow moment,
		// not a death): ask for its users again.
		k.enqueue(busMsg{Kind: "hello"})
	}
	switch m.Kind {
	case "hello":
		k.shareAll()
	case "bye":
		b.roster.dropProcess(m.Proc, false)
		b.statuses.dropProcess(m.Proc)
	case "user":
		if m.Agent {
			b.roster.noteAgent(m.User)
		}
		b.roster.remote(m.Proc, m.User, m.Name, m.State)
	case "emit":
		_ = b.ns.To(m.Room).Emit(m.Event, m.Args)
	case "status":
		b.statuses.remote(m.Proc, m.Status)
	case "sync":
		b.statuses.syncStart(m.Proc)
	case "synced":
		b.statuses.syncEnd(m.Proc)
	case "delta":
		if m.Delta != nil && b.ns.RoomSize(modules.PageRoom(m.Delta.PageID).String()) > 0 {
			b.deltas.add(*m.Delta, false)
		}
	}
}

// localState is the message that shares userID's state on this process.
func (r *roster) localState(userID string) busMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.localStateLocked(userID)
}

func (r *roster) localStateLocked(userID string) busMsg {
	m := busMsg{Kind: "user", User: userID}
	u := r.users[userID]
	if u == nil || u.conns == 0 {
		return m
	}
	s := procState{Active: u.local.Active, LastActive: u.local.LastActive, Pages: map[string]string{}}
	m.Name, m.State, m.Agent = u.name, &s, r.agents[userID]
	// Within the bus's message size: a user with more pages open than fit names the first ones.
	size := 300 + len(userID) + len(u.name)
	for p, d := range u.local.Pages {
		if size += len(p) + len(d) + 6; size > MaxBusMessage {
			break
		}
		s.Pages[p] = d
	}
	return m
}

func (r *roster) localStates() []busMsg {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]busMsg, 0, len(r.users))
	for userID, u := range r.users {
		if u.conns > 0 {
			out = append(out, r.localStateLocked(userID))
		}
	}
	return out
}

// remote records a user's state on another process (nil: no socket there).
func (r *roster) remote(proc, userID, name string, s *procState) {
	var pages map[string]struct{}
	set := func() {
		r.updateLocked(userID, func(u *presenceUser) {
			pages = r.setRemoteLocked(userID, u, proc, s)
		})
	}
	if s == nil {
		r.mu.Lock()
		set()
		r.mu.Unlock()
	} else {
		r.withDrives(userID, func(drives map[string]struct{}) {
			if u := r.userLocked(userID, name); u.drives == nil {
				u.drives = drives
			}
			set()
		})
	}
	for p := range pages {
		r.b.presence.viewersChanged(p)
	}
}

// setRemoteLocked sets u's state on proc and returns the pages whose viewers it changed.
// Caller holds r.mu.
func (r *roster) setRemoteLocked(userID string, u *presenceUser, proc string, s *procState) map[string]struct{} {
	changed := map[string]struct{}{}
	before := map[string]bool{}
	for p := range u.remote[proc].Pages {
		before[p] = true
	}
	if s == nil {
		delete(u.remote, proc)
		if u.conns == 0 && len(u.remote) == 0 {
			r.seen[userID] = lastSight{at: time.Now(), name: u.name}
		}
	} else {
		if s.Pages == nil {
			s.Pages = map[string]string{}
		}
		u.remote[proc] = *s
	}
	for p := range before {
		if _, still := u.remote[proc].Pages[p]; !still {
			r.remoteViewLocked(p, userID, -1)
			changed[p] = struct{}{}
		}
	}
	for p := range u.remote[proc].Pages {
		if !before[p] {
			r.remoteViewLocked(p, userID, +1)
			changed[p] = struct{}{}
		}
	}
	return changed
}

// remoteViewLocked counts the processes where userID views pageID. Caller holds r.mu.
func (r *roster) remoteViewLocked(pageID, userID string, delta int) {
	users := r.remotePages[pageID]
	if users == nil {
		users = map[string]int{}
		r.remotePages[pageID] = users
	}
	users[userID] += delta
	if users[userID] <= 0 {
		delete(users, userID)
	}
	if len(users) == 0 {
		delete(r.remotePages, pageID)
	}
}

// remoteViewers lists the users viewing pageID on other processes. The presence lock may be held.
func (r *roster) remoteViewers(pageID string) []Viewer {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Viewer
	for userID := range r.remotePages[pageID] {
		name := ""
		if u := r.users[userID]; u != nil {
			name = u.name
		}
		out = append(out, Viewer{UserID: userID, Name: name, IsAgent: r.agents[userID]})
	}
	return out
}

// dropProcess forgets every user of a process that said goodbye or whose lease ran out. A dead
// process cannot stop its users' typing indicators and selections, so this one does, for its
// own sockets; and the users it leaves offline are stored as last seen now.
func (r *roster) dropProcess(proc string, expired bool) {
	r.mu.Lock()
	gone := map[string]procState{}
	names := map[string]string{}
	for userID, u := range r.users {
		if s, ok := u.remote[proc]; ok {
			gone[userID], names[userID] = s, u.name
		}
	}
	r.mu.Unlock()
	for userID, s := range gone {
		r.remote(proc, userID, "", nil)
		if !expired {
			continue
		}
		for pageID := range s.Pages {
			room := modules.PageRoom(pageID).String()
			who := map[string]any{"pageId": pageID, "userId": userID, "name": names[userID]}
			_ = r.b.ns.To(room).Emit("user_stopped_typing", who)
			_ = r.b.ns.To(room).Emit("doc_selection", map[string]any{"pageId": pageID, "userId": userID,
				"name": names[userID], "version": 0, "ranges": []selRange{}})
		}
		r.mu.Lock()
		_, online := r.users[userID]
		r.mu.Unlock()
		if !online {
			r.b.storeLastSeen(userID, time.Now())
		}
	}
}

package main

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// gorillaSockets is the plain baseline's WebSocket layer: a gorilla connection per socket, read
// on the upgrade request's goroutine, written by a goroutine of its own fed through a buffered
// channel of pre-encoded frames (websocket.PreparedMessage).
type gorillaSockets struct {
	mayRead  func(ctx context.Context, userID, pageID string) error
	mu       sync.RWMutex
	conns    map[*baselineConn]struct{}
	rooms    map[string]map[*baselineConn]struct{} // page id → sockets that joined it
	upgrader websocket.Upgrader
	queue    int // frames buffered per socket
}

type baselineConn struct {
	ws     *websocket.Conn
	userID string
	out    chan *websocket.PreparedMessage
}

func newGorillaSockets(mayRead func(ctx context.Context, userID, pageID string) error, queue int) *gorillaSockets {
	return &gorillaSockets{
		mayRead: mayRead,
		queue:   queue,
		conns:   map[*baselineConn]struct{}{},
		rooms:   map[string]map[*baselineConn]struct{}{},
		// melody's defaults: the idle-memory figures compare with a plain melody server.
		upgrader: websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 1024},
	}
}

func (g *gorillaSockets) serve(w http.ResponseWriter, r *http.Request, userID string) {
	ws, err := g.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &baselineConn{ws: ws, userID: userID, out: make(chan *websocket.PreparedMessage, g.queue)}
	g.mu.Lock()
	g.conns[c] = struct{}{}
	g.mu.Unlock()
	go c.write()
	g.read(r.Context(), c)
	g.mu.Lock()
	delete(g.conns, c)
	for _, room := range g.rooms {
		delete(room, c)
	}
	close(c.out)
	g.mu.Unlock()
	_ = ws.Close()
}

func (g *gorillaSockets) closeAll() {
	g.mu.Lock()
	for c := range g.conns {
		_ = c.ws.Close()
	}
	g.mu.Unlock()
}

// write is a socket's writer goroutine: it writes the frames queued for it until out closes.
func (c *baselineConn) write() {
	for pm := range c.out {
		_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if c.ws.WritePreparedMessage(pm) != nil {
			_ = c.ws.Close()
			for range c.out { // drain until the reader unregisters and closes
			}
			return
		}
	}
}

// read is a socket's reader (the request's goroutine): every text frame asks to join the page
// it names; the answer is joinAnswer's.
func (g *gorillaSockets) read(ctx context.Context, c *baselineConn) {
	c.ws.SetReadLimit(4096)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		pageID := string(msg)
		pm, err := websocket.NewPreparedMessage(websocket.TextMessage, joinAnswer(pageID, g.join(ctx, c, pageID)))
		if err != nil {
			return
		}
		g.mu.RLock()
		queued := c.send(pm) // the reader holds c registered: out is open
		g.mu.RUnlock()
		if !queued {
			return
		}
	}
}

// send queues pm without blocking and reports whether there was room. The caller holds g.mu
// (read) with c registered, so that out is not closed meanwhile.
func (c *baselineConn) send(pm *websocket.PreparedMessage) bool {
	select {
	case c.out <- pm:
		return true
	default:
		return false
	}
}

// join checks that c's user may read pageID (one query) and adds c to its room.
func (g *gorillaSockets) join(ctx context.Context, c *baselineConn, pageID string) error {
	if err := g.mayRead(ctx, c.userID, pageID); err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.rooms[pageID] == nil {
		g.rooms[pageID] = map[*baselineConn]struct{}{}
	}
	g.rooms[pageID][c] = struct{}{}
	return nil
}

// broadcast encodes frame once and queues it on every socket of pageID's room; a socket whose
// queue is full is closed (its reader unregisters it; a real client would reconnect and refetch).
func (g *gorillaSockets) broadcast(pageID string, frame []byte) error {
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, frame)
	if err != nil {
		return err
	}
	var slow []*baselineConn
	g.mu.RLock()
	for c := range g.rooms[pageID] {
		if !c.send(pm) {
			slow = append(slow, c)
		}
	}
	g.mu.RUnlock()
	for _, c := range slow {
		_ = c.ws.Close()
	}
	return nil
}

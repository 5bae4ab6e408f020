package main

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/olahol/melody"
)

// melodySockets is the WebSocket layer of -baseline-melody: the baseline's sockets served through
// melody, pagespace's WebSocket session layer, so that melody's share of the cost shows beside
// the plain baseline's. Everything else is the plain baseline's: the token check before the
// upgrade, the join query, the insert, one encoding of each frame.
//
// What melody brings, and the plain baseline does not have: its hub goroutine (every connect and
// disconnect is a channel send to it), a ping ticker per session, an envelope allocated per
// socket and frame (Session.Write) and, as melody has no prepared messages, each socket's writer
// framing the same bytes again into a pooled write buffer.
//
// melody's defaults apply except where pagespace sets them too (realtime/engineio/websocket.go,
// newMelody): the read buffer (256 bytes), the write buffers lent from a pool for one message at a
// time, the ping period (5 min) and pong wait, the origin check (gorilla's same-origin check, as
// the plain baseline's). Two differ from pagespace's, as the plain baseline's: the read limit (4 KB)
// and the buffer per session (-baseline-queue frames, 256 by default, melody's own default).
// pagespace keeps 16 frames in melody's channel and the rest, up to 1,024, in a backlog of its
// own; with no backlog here, a 16-frame channel would close sockets the plain baseline keeps.
type melodySockets struct {
	m         *melody.Melody
	mayRead   func(ctx context.Context, userID, pageID string) error
	writePool sync.Pool // WebSocket write buffers, lent for one message at a time (as pagespace's)

	// sessions maps each connected session to its *melodyConn (as pagespace does, instead of
	// melody's per-session Keys map, which is dropped once the connect handler has read it).
	sessions sync.Map
	mu       sync.RWMutex
	rooms    map[string]map[*melody.Session]struct{} // page id → sessions that joined it
}

// melodyConn is what the baseline keeps of a socket.
type melodyConn struct {
	userID string
	ctx    context.Context // the upgrade request's: melody's read loop runs on its goroutine

	mu sync.Mutex
	nc net.Conn // the hijacked connection, recorded by hijackRecorder
}

// keyMelodyConn is the melody session key that hands the *melodyConn to the connect handler.
const keyMelodyConn = "baseline.conn"

// pagespace's ping settings (realtime/engineio: wsPingPeriod, and the pong wait it derives from
// Engine.IO's default ping interval and timeout).
const (
	melodyPingPeriod = 5 * time.Minute
	melodyPongWait   = melodyPingPeriod + 25*time.Second + 20*time.Second
)

func newMelodySockets(mayRead func(ctx context.Context, userID, pageID string) error, queue int) *melodySockets {
	s := &melodySockets{mayRead: mayRead, rooms: map[string]map[*melody.Session]struct{}{}}
	m := melody.New()
	m.Config.MessageBufferSize = queue
	m.Config.MaxMessageSize = 4096
	m.Config.PingPeriod = melodyPingPeriod
	m.Config.PongWait = melodyPongWait
	m.Upgrader.CheckOrigin = nil // gorilla's same-origin check, not melody's accept-all
	m.Upgrader.ReadBufferSize = wsReadBufferSize
	m.Upgrader.WriteBufferSize = 0
	m.Upgrader.WriteBufferPool = &s.writePool
	m.HandleConnect(s.connect)
	m.HandleMessage(s.message)
	m.HandleError(s.error)
	m.HandleDisconnect(s.disconnect)
	s.m = m
	return s
}

// wsReadBufferSize is pagespace's WebSocket read buffer (realtime/engineio: wsReadBuffer).
const wsReadBufferSize = 256

func (s *melodySockets) serve(w http.ResponseWriter, r *http.Request, userID string) {
	c := &melodyConn{userID: userID, ctx: r.Context()}
	// melody answers a failed upgrade itself; it returns when the socket has ended.
	_ = s.m.HandleRequestWithKeys(&hijackRecorder{ResponseWriter: w, c: c}, r, map[string]any{keyMelodyConn: c})
}

// connect runs on the read loop before melody starts the session's writer.
func (s *melodySockets) connect(sess *melody.Session) {
	c := sess.Keys[keyMelodyConn].(*melodyConn)
	sess.Request, sess.Keys = nil, nil // as pagespace: neither needs to live as long as the socket
	s.sessions.Store(sess, c)
}

// message is a text frame from sess, on its read loop: a join of the page it names.
func (s *melodySockets) message(sess *melody.Session, msg []byte) {
	v, ok := s.sessions.Load(sess)
	if !ok {
		return
	}
	c := v.(*melodyConn)
	pageID := string(msg)
	err := s.mayRead(c.ctx, c.userID, pageID)
	if err == nil {
		s.mu.Lock()
		if s.rooms[pageID] == nil {
			s.rooms[pageID] = map[*melody.Session]struct{}{}
		}
		s.rooms[pageID][sess] = struct{}{}
		s.mu.Unlock()
	}
	_ = sess.Write(joinAnswer(pageID, err))
}

// error is melody's report of a session's error. melody drops a frame that does not fit in a
// session's buffer and only reports it here: the socket is then cut, as the plain baseline and
// pagespace do, so that no frame is lost silently. (Session.Close would queue a close frame
// behind the full buffer.) Other errors end the session by themselves.
func (s *melodySockets) error(sess *melody.Session, err error) {
	if !errors.Is(err, melody.ErrMessageBufferFull) {
		return
	}
	if v, ok := s.sessions.Load(sess); ok {
		v.(*melodyConn).cut()
	}
}

func (s *melodySockets) disconnect(sess *melody.Session) {
	s.mu.Lock()
	for _, room := range s.rooms {
		delete(room, sess)
	}
	s.mu.Unlock()
	s.sessions.Delete(sess)
}

// broadcast hands the same frame bytes to every session of pageID's room (Session.Write: an
// envelope each, queued on its buffer without blocking).
func (s *melodySockets) broadcast(pageID string, frame []byte) error {
	s.mu.RLock()
	for sess := range s.rooms[pageID] {
		_ = sess.Write(frame) // a full buffer cuts the socket (error)
	}
	s.mu.RUnlock()
	return nil
}

func (s *melodySockets) closeAll() {
	s.sessions.Range(func(_, v any) bool {
		v.(*melodyConn).cut()
		return true
	})
}

// cut closes the network connection under melody: its read loop fails and the session ends.
func (c *melodyConn) cut() {
	c.mu.Lock()
	nc := c.nc
	c.mu.Unlock()
	if nc != nil {
		_ = nc.Close()
	}
}

// hijackRecorder records the connection gorilla hijacks for the upgrade, so that the baseline
// can cut a socket melody would only queue a close frame to (pagespace's upgradeWriter does the
// same).
type hijackRecorder struct {
	http.ResponseWriter
	c *melodyConn
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("baseline: response does not implement http.Hijacker")
	}
	nc, rw, err := hj.Hijack()
	if err == nil {
		h.c.mu.Lock()
		h.c.nc = nc
		h.c.mu.Unlock()
	}
	return nc, rw, err
}

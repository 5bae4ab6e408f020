package engineio

// This file fixes the API that the Socket.IO layer (realtime/socketio) builds on.
// Bodies are filled in by the transport implementation; the signatures are the contract.

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/olahol/melody"

	"github.com/pagespace/pagespace/internal/schedule"
	"github.com/pagespace/pagespace/internal/warm"
)

// ErrClosed is returned by Conn.Send once the connection is closed.
var ErrClosed = errors.New("engineio: connection closed")

// Message is one Engine.IO message packet (type 4) payload: text or binary.
type Message struct {
	Binary bool
	Data   []byte
	frame  []byte // the WebSocket frame of a text message built by NewText: '4', then Data
}

// NewText builds a text message by appending its payload to a buffer that already holds the
// Engine.IO packet type, so that WebSocket transports send that buffer as it is instead of
// framing a copy for each connection (a broadcast builds the message once for all). size is a
// hint of the payload's length. The message's bytes must not be modified once it is sent.
func NewText(size int, appendData func(b []byte) []byte) Message {
	b := appendData(append(make([]byte, 0, 1+size), byte('0'+PacketMessage)))
	return Message{Data: b[1:len(b):len(b)], frame: b}
}

// Handler receives the life cycle of every connection. Calls for one Conn are never concurrent
// and arrive in order: OnOpen, then OnMessage any number of times, then OnClose exactly once.
// Handlers must not block for long: they run on the connection's read path.
type Handler interface {
	OnOpen(c *Conn)
	OnMessage(c *Conn, m Message)
	OnClose(c *Conn, reason string)
}

// Config holds the server settings. Zero values take the defaults noted.
type Config struct {
	PingInterval time.Duration // default 25s
	PingTimeout  time.Duration // default 20s
	MaxPayload   int64         // default 1_000_000 bytes; also the WebSocket read limit
	// CheckOrigin decides whether a request's Origin may open or use a session (both transports).
	// nil accepts requests without an Origin header and same-host origins only.
	CheckOrigin func(r *http.Request) bool
	// CORSOrigin, when set, answers the polling transport's CORS (including preflight) for origins it
	// accepts, with credentials allowed. nil sends no CORS headers.
	CORSOrigin func(origin string) bool
	// QueueSize is the number of outbound packets buffered per connection; a connection whose
	// queue is full is closed with reason "outbound queue full" (never silently dropped). Default 1024.
	QueueSize int
	Logger    *slog.Logger // default slog.Default()
	// UpgradeTimeout bounds a WebSocket upgrade probe that never completes; the probe is then
	// closed and the session stays on polling. Default 10s, as upstream.
	UpgradeTimeout time.Duration
	// MaxPendingPerAddr caps the sessions one client address may hold open before they are
	// admitted (Conn.Admit); a handshake beyond it is answered HTTP 429. 0: no cap.
	MaxPendingPerAddr int
}

// Server is an Engine.IO v4 server (polling and WebSocket, with upgrade). It is an http.Handler;
// mount it at the path the clients use (e.g. /socket.io/).
type Server struct {
	cfg Config
	h   Handler
	log *slog.Logger
	m   *melody.Melody

	wsBuffer    int          // capacity of melody's per-session channel
	backlogged  atomic.Int64 // WebSockets with frames waiting for room in melody's channel
	wsWritePool sync.Pool    // WebSocket write buffers, lent for one message at a time
	handlers    *warm.Pool   // goroutines that handle WebSocket packets (handleOffLoop)

	heartbeats *schedule.Queue[*Conn] // every connection's next heartbeat deadline (conn.go)

	mu      sync.Mutex
	closing bool
	conns   map[string]*Conn
	pending map[string]int // client address → sessions not yet admitted (limit.go)

	// sessions maps each connected melody session to its transport. melody's own per-session
	// map (Session.Keys) would cost every socket a map; the transport is handed over through it
	// only until the connect handler (wsConnect).
	sessions sessionIndex

	open      atomic.Int64
	wg        sync.WaitGroup // requests in flight, OnClose calls owed
	closeOnce sync.Once

	// testWrapWebSocket, set by tests only (export_test.go), wraps the connection that gorilla
	// reads and writes for each WebSocket served through melody.
	testWrapWebSocket func(net.Conn) net.Conn
}

// NewServer returns a server that reports connections to h.
//
// The server owns a melody instance whose hub runs a goroutine until Shutdown: every server must
// be shut down.
func NewServer(cfg Config, h Handler) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:     cfg,
		h:       h,
		log:     cfg.Logger,
		conns:   make(map[string]*Conn),
		pending: make(map[string]int),
	}
	s.heartbeats = schedule.New((*Conn).heartbeat)
	s.handlers = warm.New(handlerGoroutines)
	s.m = s.newMelody()
	return s
}

// ServeHTTP handles both transports.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	s.serve(w, r)
}

// Shutdown closes every transport without an Engine.IO or Socket.IO close packet, so that clients
// treat it as a transport loss and reconnect; it waits for handlers to finish or ctx to end.
//
// Every open connection gets OnClose with ReasonServerShutdown. New requests are answered with
// HTTP 503. If ctx ends first, Shutdown returns ctx.Err() and the clean-up finishes in the
// background.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*Conn, 0, len(s.conns))
	for _, c := range s.conns {
		conns = append(conns, c)
	}
	clear(s.conns)
	ts := s.sessions.all()
	s.mu.Unlock()

	for _, c := range conns {
		c.closeWith(ReasonServerShutdown, closeAbort)
		c.stopLinger()
	}
	s.heartbeats.Stop() // no session registers from now on (closing)
	for _, t := range ts {
		t.abort()
	}

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		// melody's hub must only be closed once no request is inside HandleRequestWithKeys: a
		// request that reaches the hub after it stopped would block forever.
		s.closeOnce.Do(func() { _ = s.m.Close() })
		close(done)
	}()
	defer s.handlers.Close()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Count is the number of open connections.
func (s *Server) Count() int { return int(s.open.Load()) }

// Conn is one Engine.IO session. Its methods are safe for concurrent use.
type Conn struct {
	// What a send reads comes first, in one cache line: a broadcast sends on thousands of Conns.
	mu  sync.Mutex   // guards ws, the flags below and the fields from req down
	ws  *wsTransport // the active WebSocket, if any
	srv *Server
	// The flags, side by side so that they share a word (a server holds thousands of Conns).
	closed        bool
	abortive      bool // closed without any packet to the client
	getActive     bool
	postActive    bool
	probed        bool // the probe has answered 2probe
	busy          bool // a handler call is running
	closeNotified bool
	waitingPong   bool // a ping is outstanding

	id   string
	done chan struct{} // closed when the connection closes; polling only (GETs wait on it)
	wake chan struct{} // something for the pending GET to look at (capacity 1); polling only
	dmu  sync.Mutex    // serializes handler calls that come from transports
	addr string        // the client address the session counts against until admitted
	// counted: the session counts against addr (guarded by srv.mu, not mu)
	counted bool

	req       *http.Request // the handshake request, until the session is admitted or closed
	transport string
	reason    string
	final     []byte // polling: the packet that ends the last GET ("1" or "6")
	queue     []Packet
	probe     *wsTransport // a WebSocket being probed for an upgrade
	linger    *time.Timer
	hb        schedule.Slot[*Conn] // heartbeat: next ping, or the deadline of the outstanding one
	hbDue     time.Time            // when hb is due (zero before the session opens); earlier firings are stale
	pingDue   time.Time            // when the outstanding ping was due by the schedule
}

// ID is the session id (sid).
func (c *Conn) ID() string { return c.id }

// Request is the handshake request (headers, cookies, query, remote address), for the checks that
// admit the session. It is kept until the session is admitted (Admit) or closed, and is nil
// afterwards: an authenticated connection does not hold its handshake's headers. Do not read its
// body. Its context carries the handshake request's values but is never cancelled.
func (c *Conn) Request() *http.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.req
}

// Transport is "polling" or "websocket".
func (c *Conn) Transport() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.transport
}

// Send queues the messages, in order and contiguously, without blocking. It returns ErrClosed on
// a closed connection; when the queue is full the connection is closed and ErrClosed is returned.
//
// Send keeps references to the Data slices: do not modify them afterwards.
func (c *Conn) Send(msgs ...Message) error {
	return c.sendMessages(msgs)
}

// Close closes the connection; OnClose is called with reason. Safe to call more than once.
//
// Packets already queued are still delivered: on WebSocket they precede the close frame, on
// polling the next GET receives them followed by a close packet.
func (c *Conn) Close(reason string) { c.closeWith(reason, closeGraceful) }

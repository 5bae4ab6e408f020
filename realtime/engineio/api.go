package engineio

// This file fixes the API that the Socket.IO layer (realtime/socketio) builds on.
// Bodies are filled in by the transport implementation; the signatures are the contract.

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// ErrClosed is returned by Conn.Send once the connection is closed.
var ErrClosed = errors.New("engineio: connection closed")

// Message is one Engine.IO message packet (type 4) payload: text or binary.
type Message struct {
	Binary bool
	Data   []byte
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
}

// Server is an Engine.IO v4 server (polling and WebSocket, with upgrade). It is an http.Handler;
// mount it at the path the clients use (e.g. /socket.io/).
type Server struct {
	// implementation fields
}

// NewServer returns a server that reports connections to h.
func NewServer(cfg Config, h Handler) *Server { panic("todo") }

// ServeHTTP handles both transports.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { panic("todo") }

// Shutdown closes every transport without an Engine.IO or Socket.IO close packet, so that clients
// treat it as a transport loss and reconnect; it waits for handlers to finish or ctx to end.
func (s *Server) Shutdown(ctx context.Context) error { panic("todo") }

// Count is the number of open connections.
func (s *Server) Count() int { panic("todo") }

// Conn is one Engine.IO session. Its methods are safe for concurrent use.
type Conn struct {
	// implementation fields
}

// ID is the session id (sid).
func (c *Conn) ID() string { panic("todo") }

// Request is the handshake request (headers, cookies, query, remote address). Do not read its body.
func (c *Conn) Request() *http.Request { panic("todo") }

// Transport is "polling" or "websocket".
func (c *Conn) Transport() string { panic("todo") }

// Send queues the messages, in order and contiguously, without blocking. It returns ErrClosed on
// a closed connection; when the queue is full the connection is closed and ErrClosed is returned.
func (c *Conn) Send(msgs ...Message) error { panic("todo") }

// Close closes the connection; OnClose is called with reason. Safe to call more than once.
func (c *Conn) Close(reason string) { panic("todo") }

package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagespace/pagespace/internal/warm"
	"github.com/pagespace/pagespace/realtime/engineio"
)

// Disconnect reasons handed to Namespace.OnDisconnect, as upstream names them. Other Engine.IO
// close reasons (e.g. "outbound queue full") are passed through as they are.
const (
	ReasonClientNamespaceDisconnect = "client namespace disconnect"
	ReasonServerNamespaceDisconnect = "server namespace disconnect"
	ReasonTransportClose            = engineio.ReasonTransportClose
	ReasonTransportError            = engineio.ReasonTransportError
	ReasonPingTimeout               = engineio.ReasonPingTimeout
	ReasonServerShuttingDown        = engineio.ReasonServerShutdown
	ReasonParseError                = engineio.ReasonParseError
)

// Close reasons this package gives the Engine.IO connection.
const (
	closeConnectTimeout = "connect timeout"
	closeForced         = "forced server close"
	closeHandlerPanic   = "server error"
	closeTooManyPackets = "too many pending packets"
)

// Errors returned by emitting methods.
var (
	// ErrDisconnected is returned when the socket is no longer connected.
	ErrDisconnected = errors.New("socketio: socket disconnected")
	// ErrAckTimeout is returned by EmitWithAck when the client did not answer in time.
	ErrAckTimeout = errors.New("socketio: acknowledgement timed out")
	// ErrAckSent is returned by an AckFunc called a second time.
	ErrAckSent = errors.New("socketio: acknowledgement already sent")
)

// Config holds the server settings. Zero values take the defaults noted.
type Config struct {
	Engine engineio.Config
	// ConnectTimeout closes an Engine.IO connection that has not joined a namespace in time.
	// Default 45s, as upstream.
	ConnectTimeout time.Duration
	// AckTimeout bounds every EmitWithAck, whatever its context says. Default 30s; negative: none.
	AckTimeout time.Duration
	// MaxAttachments bounds the binary attachments of one received packet. Default 10.
	MaxAttachments int
	// MaxPacketBytes bounds a received packet, text and attachments together.
	// Default Engine.MaxPayload, or 1 MB.
	MaxPacketBytes int64
	// MaxPendingPackets is how many received packets may wait for their handlers on one
	// connection; a client sending faster than its handlers run is disconnected. Default 256.
	MaxPendingPackets int
	// Recovery enables connection state recovery; nil disables it (the CONNECT reply has no pid).
	Recovery *RecoveryConfig
	Logger   *slog.Logger // default slog.Default()
}

// RecoveryConfig drives connection state recovery (Socket.IO ≥ 4.6 clients).
//
// With recovery on, every CONNECT reply carries a pid. When a reconnecting client's CONNECT auth
// holds a string pid (and, normally, the string offset of the last event it received), Recover is
// called after the namespace middleware accepted the socket and before the reply is sent. If it
// returns true the reply repeats the client's pid and the client sets socket.recovered; otherwise
// NewPID chooses a fresh one. Whatever the socket emits or receives from broadcasts while Recover
// runs is sent right after the CONNECT reply, so Recover can join rooms and replay missed events
// with Emit/EmitWithOffset.
type RecoveryConfig struct {
	// Recover decides whether the session named by pid is restored. offset is "" when the client
	// sent none (it received no event carrying an offset). nil never recovers.
	Recover func(s *Socket, pid, offset string) (recovered bool)
	// NewPID returns the pid of a session that was not recovered. Default: 128 random bits.
	NewPID func(s *Socket) string
}

// Server is a Socket.IO v5 server over an Engine.IO v4 server. It is an http.Handler; mount it
// where the clients connect (e.g. /socket.io/). Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	engine *engineio.Server

	mu   sync.RWMutex
	nsps map[string]*Namespace

	clients  sync.Map // engineConn → *client
	workers  sync.WaitGroup
	pool     *warm.Pool // the goroutines that run connections' workers (client.run)
	closing  atomic.Bool
	shutOnce sync.Once
}

// engineConn is what the connection code needs of an Engine.IO connection; *engineio.Conn
// satisfies it, and tests substitute a fake.
type engineConn interface {
	ID() string
	Request() *http.Request
	Send(msgs ...engineio.Message) error
	Close(reason string)
}

var _ engineConn = (*engineio.Conn)(nil)

// NewServer returns a server with the main namespace "/" already defined. Every server must be
// stopped with Shutdown: the transports run goroutines until then.
func NewServer(cfg Config) *Server {
	s := newServer(cfg)
	s.engine = engineio.NewServer(cfg.Engine, engineHandler{s})
	return s
}

func newServer(cfg Config) *Server {
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 45 * time.Second
	}
	if cfg.AckTimeout == 0 {
		cfg.AckTimeout = 30 * time.Second
	}
	if cfg.MaxAttachments <= 0 {
		cfg.MaxAttachments = DefaultMaxAttachments
	}
	if cfg.MaxPacketBytes <= 0 {
		cfg.MaxPacketBytes = cfg.Engine.MaxPayload
		if cfg.MaxPacketBytes <= 0 {
			cfg.MaxPacketBytes = DefaultMaxPacketBytes
		}
	}
	if cfg.MaxPendingPackets <= 0 {
		cfg.MaxPendingPackets = 256
	}
	if cfg.Recovery != nil {
		r := *cfg.Recovery
		if r.NewPID == nil {
			r.NewPID = func(*Socket) string { return randomID() }
		}
		cfg.Recovery = &r
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, nsps: make(map[string]*Namespace), pool: warm.New(workerGoroutines)}
	s.Of("/")
	return s
}

// workerGoroutines is how many goroutines that ran a connection's worker wait, their stacks
// grown, to run the next (warm.Pool; see engineio's handleOffLoop for why).
const workerGoroutines = 64

// ServeHTTP hands the request to the Engine.IO transports.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.engine.ServeHTTP(w, r) }

// Of returns the namespace called name ("/" when empty, a leading "/" added when missing),
// creating it on first use. CONNECT packets to a namespace never created are refused.
func (s *Server) Of(name string) *Namespace {
	if name == "" || name[0] != '/' {
		name = "/" + name
	}
	s.mu.RLock()
	ns := s.nsps[name]
	s.mu.RUnlock()
	if ns != nil {
		return ns
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if ns = s.nsps[name]; ns == nil {
		ns = newNamespace(s, name)
		s.nsps[name] = ns
	}
	return ns
}

func (s *Server) namespace(name string) *Namespace {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.nsps[name]
}

// Shutdown closes every transport without a DISCONNECT packet, so that clients reconnect (and
// recover) elsewhere or later; sockets see the reason "server shutting down". It waits for the
// handlers of every connection to return, or for ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	var err error
	if s.engine != nil {
		err = s.engine.Shutdown(ctx)
	}
	// Whatever the engine left open (or every connection, without an engine in tests).
	s.clients.Range(func(_, v any) bool {
		v.(*client).conn.Close(ReasonServerShuttingDown)
		return true
	})
	done := make(chan struct{})
	go func() {
		s.workers.Wait()
		close(done)
	}()
	defer s.pool.Close()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		return errors.Join(err, ctx.Err())
	}
}

// Count is the number of open Engine.IO connections.
func (s *Server) Count() int {
	n := 0
	s.clients.Range(func(_, _ any) bool { n++; return true })
	return n
}

// engineHandler adapts the Engine.IO callbacks to the connection code.
type engineHandler struct{ s *Server }

func (h engineHandler) OnOpen(c *engineio.Conn)                        { h.s.onOpen(c) }
func (h engineHandler) OnMessage(c *engineio.Conn, m engineio.Message) { h.s.onMessage(c, m) }
func (h engineHandler) OnClose(c *engineio.Conn, reason string)        { h.s.onClose(c, reason) }

func (s *Server) onOpen(c engineConn) {
	cl := newClient(s, c)
	s.clients.Store(c, cl)
	cl.start()
	if s.closing.Load() {
		c.Close(ReasonServerShuttingDown)
	}
}

func (s *Server) onMessage(c engineConn, m engineio.Message) {
	if v, ok := s.clients.Load(c); ok {
		v.(*client).onMessage(m)
	}
}

func (s *Server) onClose(c engineConn, reason string) {
	if v, ok := s.clients.LoadAndDelete(c); ok {
		if s.closing.Load() {
			reason = ReasonServerShuttingDown
		}
		v.(*client).onClose(reason)
	}
}

// randomID returns 128 random bits in URL-safe base64 (22 characters), like upstream's ids.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pagespace/pagespace/internal/schedule"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/auth"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"github.com/pagespace/pagespace/realtime/engineio"
	"github.com/pagespace/pagespace/realtime/socketio"
	"golang.org/x/sync/singleflight"
	"gorm.io/gorm"
)

// Verifier checks access tokens and the login sessions they belong to, and names their users
// (auth.Service). Safe for concurrent use.
type Verifier interface {
	// Verify returns the identity and expiry of a valid token, or an error whose public code is
	// "invalid_token" or "token_expired".
	Verify(token string) (modules.Identity, time.Time, error)
	// SessionActive returns nil while the identity's user exists and its session has not ended
	// (logout, refresh-token reuse), an error of kind unauthorized once it has, and any other
	// error when the check itself failed. A signature alone does not say a session still holds.
	SessionActive(ctx context.Context, id modules.Identity) error
	// UserName returns the user's name and whether it is an agent, or an error of kind not found
	// once the user is gone.
	UserName(ctx context.Context, userID string) (name string, agent bool, err error)
	// Connecting is SessionActive and UserName in one query, for a connect: the user's name and
	// whether it is an agent while the session holds, else SessionActive's errors.
	Connecting(ctx context.Context, id modules.Identity) (name string, agent bool, err error)
}

// Access resolves permissions (permissions.Resolver). Safe for concurrent use.
type Access interface {
	Drive(ctx context.Context, userID, driveID string) (permissions.DriveView, error)
	Page(ctx context.Context, userID, pageID string) (permissions.PageAccess, error)
	// MemberDrives and Members answer presence: the drives a user is a member of, and the
	// members of a drive with their names.
	MemberDrives(ctx context.Context, userID string) ([]string, error)
	Members(ctx context.Context, driveID string) ([]permissions.MemberName, error)
}

// Log is the event log the broker replays from (eventlog.Log).
type Log interface {
	After(ctx context.Context, after int64, limit int) ([]eventlog.Event, error)
	Oldest(ctx context.Context) (int64, error)
	Latest(ctx context.Context) (int64, error)
}

var (
	_ eventlog.Publisher = (*Broker)(nil)
	_ eventlog.Settler   = (*Broker)(nil)
	_ Access             = (*permissions.Resolver)(nil)
	_ Verifier           = (*auth.Service)(nil)
)

// Config holds the broker's settings. Zero values take the defaults noted.
type Config struct {
	AllowedOrigins   []string      // WebSocket/polling Origin check; same host is always allowed
	PingInterval     time.Duration // default 25s
	PingTimeout      time.Duration // default 20s
	MaxPayload       int64         // default 1 MB
	QueueSize        int           // outbound packets per connection; default 4096
	MaxReplay        int           // most events replayed on recovery; more → fresh session. Default 2000
	MaxRoomsPerConn  int           // page and drive rooms per socket; default 200
	MaxConnsPerUser  int           // default 20
	EventRate        float64       // client events per second per socket; default 20
	EventBurst       int           // default 40
	CursorInterval   time.Duration // least time between two cursor_moved of one socket; default 50ms (20/s)
	TypingTimeout    time.Duration // typing stops by itself after; default 5s
	TypingThrottle   time.Duration // at most one user_typing per user and page per; default 1s
	ViewersInterval  time.Duration // at most one viewers_updated per page per; default 250ms
	AuthExpiringLead time.Duration // auth_expiring is sent this long before expiry; default 60s
	Retention        time.Duration // how long recovery sessions are kept; default 7 days
	DocOpRate        float64       // doc_op events per second per socket; default 50
	DocOpBurst       int           // default 100
	ChunkRate        float64       // stream_chunk events per second per socket; default 100
	ChunkBurst       int           // default 200
	IdleAfter        time.Duration // a connected user without activity is idle after; default 5m
	PresenceInterval time.Duration // at most one presence_changed per drive per; default 1s
	LeaseInterval    time.Duration // with a bus: a heartbeat every; default 3s
	LeaseTTL         time.Duration // with a bus: a process not heard from this long is dropped; default 10s
	AgentStatusTTL   time.Duration // an agent status set over REST without ttlSeconds lasts; default 60s
	Logger           *slog.Logger

	// WrapAccess, when set, wraps the permissions resolver the broker reads access with: a hook
	// for instrumentation, and for tests that hold a resolution back.
	WrapAccess func(Access) Access

	// MaxUnauthenticatedPerAddr caps the Engine.IO sessions one client address holds open before
	// they authenticate (a Socket.IO connect with a valid token); default 50.
	MaxUnauthenticatedPerAddr int
}

func (c *Config) defaults() {
	setDur := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	setInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	setDur(&c.PingInterval, 25*time.Second)
	setDur(&c.PingTimeout, 20*time.Second)
	setDur(&c.CursorInterval, 50*time.Millisecond)
	setDur(&c.TypingTimeout, 5*time.Second)
	setDur(&c.TypingThrottle, time.Second)
	setDur(&c.ViewersInterval, 250*time.Millisecond)
	setDur(&c.IdleAfter, 5*time.Minute)
	setDur(&c.PresenceInterval, time.Second)
	setDur(&c.LeaseInterval, 3*time.Second)
	setDur(&c.LeaseTTL, 10*time.Second)
	setDur(&c.AgentStatusTTL, time.Minute)
	setDur(&c.AuthExpiringLead, time.Minute)
	setDur(&c.Retention, 7*24*time.Hour)
	if c.MaxPayload <= 0 {
		c.MaxPayload = 1_000_000
	}
	setInt(&c.QueueSize, 4096)
	setInt(&c.MaxReplay, 2000)
	setInt(&c.MaxRoomsPerConn, 200)
	setInt(&c.MaxConnsPerUser, 20)
	setInt(&c.MaxUnauthenticatedPerAddr, 50)
	setInt(&c.EventBurst, 40)
	if c.EventRate <= 0 {
		c.EventRate = 20
	}
	if c.DocOpRate <= 0 {
		c.DocOpRate = 50
	}
	setInt(&c.DocOpBurst, 100)
	if c.ChunkRate <= 0 {
		c.ChunkRate = 100
	}
	setInt(&c.ChunkBurst, 200)
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Broker is the realtime module: the Socket.IO endpoint and the fan-out of committed events.
type Broker struct {
	cfg    Config
	log    *slog.Logger
	db     *gorm.DB
	verify Verifier
	access Access
	events Log
	srv    *socketio.Server
	ns     *socketio.Namespace
	limits limits // per-socket event rates

	expiries *schedule.Queue[*client] // every socket's next token expiry step (expiry.go)

	// ctx is the broker's lifetime: Shutdown cancels it, and every timeout derives from it.
	ctx    context.Context
	cancel context.CancelFunc

	// mu orders dispatch against joins, leaves and recovery; it guards the fields below. No
	// database work is done while it is held (see resolve.go).
	mu      sync.Mutex
	last    int64                             // last event id dispatched
	cache   map[string]map[string]*driveEntry // userID → driveID → resolved view
	clients map[string]map[*client]struct{}   // userID → connected clients
	byDrive map[string]map[*client]struct{}   // driveID → clients in a room of that drive
	dirty   map[*client]struct{}              // sessions whose rooms changed during dispatch
	gens    generations                       // per drive: access changes applied
	known   knownSessions                     // sessions checked lately, for further sockets

	sessions sessionWriter      // recovery session rows, written by group commit
	flights  singleflight.Group // reads shared by concurrent callers (shared)
	presence *presence
	roster   *roster
	cluster  *cluster // nil without a bus
	docs     Docs
	sel      selections
	streams  Streams
	deltas   *deltaHub

	statuses  *statuses
	statusLim *modules.Limiter // the agent statuses each agent sets over REST

	queue    chan struct{} // wakes the dispatcher
	qmu      sync.Mutex
	pending  []job
	progress *sync.Cond // broadcast when last advances; uses qmu
	done     int64      // last id handled, guarded by qmu (mirror of last for waiters)

	own ownCheck // this process's notifications, checked late (NotifyOwn)

	stopped  chan struct{}
	closing  atomic.Bool
	metrics  metrics
	stopOnce sync.Once
}

type driveEntry struct {
	view  permissions.DriveView
	timer *time.Timer // fires when the earliest deciding grant of the view expires
}

func (e *driveEntry) stop() {
	if e != nil && e.timer != nil {
		e.timer.Stop()
	}
}

// Timeouts of the broker's own database work, each derived from its lifetime context.
const (
	// queryTimeout bounds one statement of the broker's own: a session saved, a last-seen time.
	queryTimeout = 10 * time.Second
	// stepTimeout bounds one step that may take several queries: an event's dispatch, a join,
	// a recovery, a catch-up read of the log.
	stepTimeout = 30 * time.Second
	// busTimeout bounds a message sent to the bus, and the read that fills a gap it left.
	busTimeout = 5 * time.Second
)

// within returns a context for work that takes at most d, ended by Shutdown too.
func (b *Broker) within(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(b.ctx, d)
}

// New returns a broker; call Start before serving.
func New(cfg Config, db *gorm.DB, verify Verifier, access Access, events Log) *Broker {
	cfg.defaults()
	if cfg.WrapAccess != nil {
		access = cfg.WrapAccess(access)
	}
	b := &Broker{
		cfg: cfg, log: cfg.Logger, db: db, verify: verify, access: access, events: events, limits: newLimits(cfg),
		cache:   map[string]map[string]*driveEntry{},
		clients: map[string]map[*client]struct{}{},
		byDrive: map[string]map[*client]struct{}{},
		dirty:   map[*client]struct{}{},
		gens:    generations{byDrive: map[string]uint64{}},
		queue:   make(chan struct{}, 1),
		stopped: make(chan struct{}),
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	b.progress = sync.NewCond(&b.qmu)
	b.expiries = schedule.New(b.expire)
	b.sessions.b = b
	b.presence = newPresence(b)
	b.roster = newRoster(b)
	b.statuses = newStatuses(b)
	b.statusLim = modules.NewLimiter(restStatusPerMinute)
	b.deltas = newDeltaHub(b)
	b.sel.pages = map[*client]map[string]struct{}{}
	origins := map[string]bool{}
	for _, o := range cfg.AllowedOrigins {
		origins[o] = true
	}
	b.srv = socketio.NewServer(socketio.Config{
		Engine: engineio.Config{
			PingInterval: cfg.PingInterval, PingTimeout: cfg.PingTimeout, MaxPayload: cfg.MaxPayload,
			QueueSize: cfg.QueueSize, Logger: cfg.Logger, MaxPendingPerAddr: cfg.MaxUnauthenticatedPerAddr,
			CheckOrigin: func(r *http.Request) bool { return originAllowed(r, origins) },
			CORSOrigin:  func(o string) bool { return origins[o] },
		},
		Recovery: &socketio.RecoveryConfig{Recover: b.recover, NewPID: func(*socketio.Socket) string { return modules.NewID() }},
		Logger:   cfg.Logger,
	})
	b.ns = b.srv.Of("/")
	b.ns.Use(b.authenticate)
	b.ns.OnConnect(b.onConnect)
	b.ns.OnDisconnect(b.onDisconnect)
	b.registerHandlers()
	return b
}

// Start reads the log position and starts the dispatcher.
func (b *Broker) Start(ctx context.Context) error {
	last, err := b.events.Latest(ctx)
	if err != nil {
		return fmt.Errorf("realtime: start: %w", err)
	}
	b.last, b.done = last, last
	go b.dispatchLoop()
	if b.cluster != nil {
		b.cluster.start()
	}
	return nil
}

// ServeHTTP serves the Socket.IO endpoint; mount it at /socket.io/.
func (b *Broker) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.srv.ServeHTTP(w, r) }

// Shutdown closes every transport without a Socket.IO DISCONNECT, so clients reconnect (to
// this server once it is back, or another) and recover, then ends the broker's lifetime
// context, which stops the dispatcher and the work in flight.
func (b *Broker) Shutdown(ctx context.Context) error {
	var err error
	b.stopOnce.Do(func() {
		b.closing.Store(true)
		err = b.srv.Shutdown(ctx)
		if b.cluster != nil {
			b.cluster.shutdown()
		}
		b.cancel()
		<-b.stopped
		b.own.stop()
		b.presence.stopAll()
		b.roster.stopAll()
		b.expiries.Stop()
		b.statuses.stopAll()
		b.deltas.stop()
		b.mu.Lock()
		for _, drives := range b.cache {
			for _, e := range drives {
				e.stop()
			}
		}
		b.mu.Unlock()
		b.qmu.Lock()
		b.progress.Broadcast()
		b.qmu.Unlock()
	})
	return err
}

// Publish queues committed events for dispatch; it never blocks on sockets.
func (b *Broker) Publish(events []eventlog.Event) {
	jobs := make([]job, len(events))
	for i, e := range events {
		jobs[i] = eventJob{e}
	}
	b.enqueue(jobs...)
}

// maxBehind is how far (in events) the dispatcher may lag behind a write that changes nobody's
// access before the write waits for it (Settle).
const maxBehind = 256

// Settle is what a write waits for once its events, up to upTo, are published (eventlog.Tx
// calls it). A write that changes who may see what (access) returns once its events are
// dispatched, so that its revocations have been applied. Any other write returns at once, its
// events queued in order for the dispatcher, unless the dispatcher is more than maxBehind events
// behind: then it waits until it is not. So a write does not wait for the fan-out of earlier
// writes (on a busy server, POSTs keep their pace while delivery catches up), yet a burst of
// writes cannot outrun delivery without bound.
func (b *Broker) Settle(ctx context.Context, upTo int64, access bool) {
	if !access {
		upTo -= maxBehind
	}
	b.Flush(ctx, upTo)
}

// Flush waits until every event up to upTo has been dispatched, ctx ends, or the broker stops.
func (b *Broker) Flush(ctx context.Context, upTo int64) {
	b.qmu.Lock()
	done := b.done >= upTo
	b.qmu.Unlock()
	if done {
		return
	}
	stopWatch := context.AfterFunc(ctx, func() {
		b.qmu.Lock()
		b.progress.Broadcast()
		b.qmu.Unlock()
	})
	defer stopWatch()
	b.qmu.Lock()
	defer b.qmu.Unlock()
	for b.done < upTo && ctx.Err() == nil && !b.closing.Load() {
		b.progress.Wait()
	}
}

// dispatched waits, as Flush, until every event up to upTo has been dispatched, and reports
// whether it was (false when ctx ended or the broker is stopping first).
func (b *Broker) dispatched(ctx context.Context, upTo int64) bool {
	b.Flush(ctx, upTo)
	b.qmu.Lock()
	defer b.qmu.Unlock()
	return b.done >= upTo
}

// Notify tells the broker that events up to id were committed elsewhere (another process); the
// dispatcher reads them from the log. It is the hook for a LISTEN/NOTIFY bus.
func (b *Broker) Notify(upTo int64) { b.enqueue(catchUpJob{upTo}) }

// ownCheckDelay is how long after the notification of its own commit the broker makes sure the
// commit's events were dispatched (NotifyOwn).
const ownCheckDelay = time.Second

// NotifyOwn tells the broker that this process committed events up to id: the bus heard its own
// notification. Those events reach the dispatcher through Publish, often just after their
// notification; read from the log as well, they would cost the dispatcher a query each, in the
// way of delivery. So NotifyOwn only makes sure, ownCheckDelay later, that they were dispatched,
// and has the dispatcher read from the log any that were not (a commit whose success did not
// reach its caller, say). That check queries nothing when they were.
func (b *Broker) NotifyOwn(upTo int64) {
	b.own.note(upTo, ownCheckDelay, func(upTo int64) { b.enqueue(catchUpJob{upTo}) })
}

// ownCheck coalesces the late checks of NotifyOwn: one timer at a time, for the highest id heard.
type ownCheck struct {
	mu      sync.Mutex
	upTo    int64
	timer   *time.Timer
	stopped bool
}

func (o *ownCheck) note(upTo int64, after time.Duration, check func(upTo int64)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.upTo = max(o.upTo, upTo)
	if o.timer != nil || o.stopped {
		return
	}
	o.timer = time.AfterFunc(after, func() {
		o.mu.Lock()
		upTo, stopped := o.upTo, o.stopped
		o.timer = nil
		o.mu.Unlock()
		if !stopped {
			check(upTo)
		}
	})
}

func (o *ownCheck) stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stopped = true
	if o.timer != nil {
		o.timer.Stop()
	}
}

// ack answers a client event.
func ok(ack socketio.AckFunc, fields map[string]any) {
	if ack == nil {
		return
	}
	out := map[string]any{"ok": true}
	for k, v := range fields {
		out[k] = v
	}
	_ = ack(out)
}

func fail(ack socketio.AckFunc, code, message string) {
	if ack == nil {
		return
	}
	_ = ack(map[string]any{"ok": false, "error": map[string]string{"code": code, "message": message}})
}

// failErr answers with a *modules.Error's code, hiding anything else.
func (b *Broker) failErr(ack socketio.AckFunc, err error) {
	if e := modules.As(err); e != nil {
		fail(ack, e.PublicCode(), e.Message)
		return
	}
	if !errors.Is(err, context.Canceled) {
		b.log.Error("realtime", "err", err.Error())
	}
	fail(ack, "internal", "internal error")
}

func originAllowed(r *http.Request, allowed map[string]bool) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not a browser: tokens, not cookies, protect these
	}
	if allowed[origin] {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return origin == scheme+"://"+r.Host
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

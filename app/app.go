package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/pagespace/pagespace/messages"
	"github.com/pagespace/pagespace/migrations"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/auth"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/pages"
	"github.com/pagespace/pagespace/permissions"
	"github.com/pagespace/pagespace/realtime"
	"github.com/pagespace/pagespace/realtime/pgbus"
	"github.com/pagespace/pagespace/tasks"
	"github.com/pagespace/pagespace/templates"
	"gorm.io/gorm"
)

// Sockets check tokens and sessions as REST does.
var _ realtime.Verifier = (*auth.Service)(nil)

// App is one running server. Tests start it on 127.0.0.1:0.
type App struct {
	cfg    Config
	log    *slog.Logger
	db     *gorm.DB
	echo   *echo.Echo
	events *eventlog.Log
	origin string // names this process in its event notifications (eventlog.Log.SetOrigin)
	auth   *auth.Service
	broker *realtime.Broker
	pages  *pages.Service
	msgs   *messages.Service

	srv      *http.Server
	listener net.Listener
	stop     chan struct{}
	stopBus  context.CancelFunc
	bg       sync.WaitGroup
	stopOnce sync.Once
}

// New opens the database, applies migrations and wires every module. It does not listen yet.
func New(cfg Config) (*App, error) {
	out := cfg.LogOutput
	if out == nil {
		out = os.Stderr
	}
	log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: cfg.LogLevel}))
	db, err := openDB(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.InstrumentDB != nil {
		cfg.InstrumentDB(db)
	}
	if _, err := migrations.Up(context.Background(), db); err != nil {
		closeDB(db)
		return nil, err
	}
	secret, err := jwtSecret(cfg)
	if err != nil {
		closeDB(db)
		return nil, err
	}
	cfg.Stream.Defaults()
	a := &App{cfg: cfg, log: log, db: db, stop: make(chan struct{})}
	a.events = eventlog.New(db, nil)
	// The notifications of this process's commits name it, so that its listener does not read
	// back from the log what it already dispatches (realtime.Broker.NotifyOwn).
	a.origin = modules.NewID()
	a.events.SetOrigin(a.origin)
	tokens := auth.NewTokens(secret, cfg.AccessTokenTTL)
	a.auth = auth.NewService(db, a.events, tokens, permissions.AccountDrives, auth.Config{RefreshTTL: cfg.RefreshTokenTTL, Hash: cfg.PasswordHash,
		HashMemory: cfg.PasswordHashMemory, PasswordAttempts: cfg.PasswordRateLimit})
	resolver := permissions.NewResolver(db)
	rt := cfg.Realtime
	if rt.ChunkRate <= 0 {
		// A socket's own ceiling on stream_chunk sits above its author's limit, which answers
		// first (and counts REST chunks too).
		rt.ChunkRate, rt.ChunkBurst = 2*cfg.Stream.ChunkRate, 2*cfg.Stream.ChunkBurst
	}
	rt.AllowedOrigins = cfg.AllowedOrigins
	rt.Retention = cfg.EventRetention
	rt.Logger = log
	a.broker = realtime.New(rt, db, a.auth, resolver, a.events)
	a.events.SetPublisher(a.broker)

	a.echo = a.newEcho()
	a.echo.GET("/metrics", echo.WrapHandler(http.HandlerFunc(a.broker.ServeMetrics)))
	ui, err := templates.Parse()
	if err != nil {
		closeDB(db)
		return nil, err
	}
	shell := func(c echo.Context) error {
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
		h.Set(echo.HeaderCacheControl, "no-cache")
		return ui.RenderShell(c.Response(), templates.Shell{Database: db.Dialector.Name()})
	}
	for _, p := range templates.UIPaths {
		a.echo.GET(p, shell)
	}
	// Scripts and styles are minified and compressed once, here; the shell page stays
	// uncompressed (small, and it carries no secrets either way).
	assets, err := templates.NewAssets(templates.Static(), log)
	if err != nil {
		closeDB(db)
		return nil, err
	}
	serveAssets := echo.WrapHandler(http.StripPrefix("/static", assets))
	a.echo.GET("/static/*", serveAssets)
	a.echo.HEAD("/static/*", serveAssets)
	if err := a.mountDescriptions(); err != nil {
		closeDB(db)
		return nil, err
	}
	api := a.echo.Group("/api")
	routes := modules.Routes{Public: modules.NewRouter(api), Authed: modules.NewRouter(api, auth.Middleware(a.auth))}
	pageModule := pages.New(db, a.events, resolver, cfg.Doc)
	a.pages = pageModule.Service()
	a.broker.SetDocs(docs{a.pages})
	messageModule := messages.New(db, a.events, resolver, cfg.Stream, a.broker)
	a.msgs = messageModule.Service()
	a.broker.SetStreams(streams{a.msgs})
	permissionModule := permissions.New(db, a.events, resolver, modules.NewLimiter(cfg.MemberEmailRateLimit))
	permissionModule.SetStreams(a.msgs)
	for _, m := range []modules.Module{
		auth.NewHandler(a.auth, modules.NewLimiter(a.cfg.AuthRateLimit).PerAddress(), a.cfg.AllowedOrigins),
		permissions.NewEventsHandler(a.events, resolver),
		permissionModule,
		pageModule,
		messageModule,
		tasks.New(db, a.events, resolver),
		a.broker, // agent statuses over REST
	} {
		m.Mount(routes)
	}
	return a, nil
}

// Migrate applies migrations and returns the versions applied.
func Migrate(ctx context.Context, cfg Config) ([]int, error) {
	db, err := openDB(cfg)
	if err != nil {
		return nil, err
	}
	defer closeDB(db)
	return migrations.Up(ctx, db)
}

func closeDB(db *gorm.DB) {
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
}

func (a *App) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(a.log)
	e.IPExtractor = echo.ExtractIPDirect()
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		DisableStackAll: true,
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			a.log.Error("panic", "err", err.Error(), "stack", string(stack), "path", c.Path())
			return err
		},
	}))
	e.Use(middleware.RequestID())
	e.Use(middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRequestID: true, LogError: false,
		HandleError: true, // run the error handler first, so the logged status is the one sent
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			a.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request",
				slog.String("method", v.Method), slog.String("uri", v.URI), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID))
			return nil
		},
	}))
	if len(a.cfg.AllowedOrigins) > 0 {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:     a.cfg.AllowedOrigins,
			AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
			AllowHeaders:     []string{echo.HeaderAuthorization, echo.HeaderContentType, auth.ModeHeader},
			AllowCredentials: true,
			MaxAge:           600,
		}))
	}
	e.Use(bodyLimit(a.cfg.BodyLimit))
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", a.ready)
	return e
}

// bodyLimit refuses bodies over limit with 413, whether declared up front or streamed.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength > limit {
				return modules.ErrTooLarge
			}
			req.Body = http.MaxBytesReader(c.Response(), req.Body, limit)
			return next(c)
		}
	}
}

func (a *App) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	sqlDB, err := a.db.DB()
	if err == nil {
		err = sqlDB.PingContext(ctx)
	}
	if err != nil {
		return c.JSON(http.StatusServiceUnavailable, errorBody{errorDetail{Code: "unavailable", Message: "database unavailable"}})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

// Handler is the HTTP handler of the whole server. The socket endpoint is served beside Echo,
// not through it: a WebSocket's read loop lives on its request's goroutine for the life of the
// connection, and a shallow call stack there keeps each idle connection's memory small. The
// engine does its own CORS, Origin check and payload limit. Security headers and the body read
// timeout wrap both.
func (a *App) Handler() http.Handler {
	return securityHeaders(bodyReadTimeout(a.cfg.ReadBodyTimeout, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/socket.io/") {
			a.broker.ServeHTTP(w, r)
			return
		}
		a.echo.ServeHTTP(w, r)
	})))
}

// DB is the database handle (for tests and commands).
func (a *App) DB() *gorm.DB { return a.db }

// Events is the event log.
func (a *App) Events() *eventlog.Log { return a.events }

// Start listens on cfg.Addr and serves in the background.
func (a *App) Start() error {
	ln, err := net.Listen("tcp", a.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", a.cfg.Addr, err)
	}
	if a.db.Dialector.Name() == "postgres" {
		// Presence, typing and cursors cross processes on a NOTIFY channel of their own.
		sqlDB, err := a.db.DB()
		if err != nil {
			ln.Close()
			return err
		}
		a.broker.SetBus(pgbus.Sender{DB: sqlDB})
	}
	if err := a.broker.Start(context.Background()); err != nil {
		ln.Close()
		return err
	}
	if err := a.startPprof(); err != nil {
		ln.Close()
		return fmt.Errorf("pprof: %w", err)
	}
	a.listener = ln
	a.srv = a.newServer()
	if a.db.Dialector.Name() == "postgres" {
		// Several processes on one database: each delivers what the others commit.
		ctx, cancel := context.WithCancel(context.Background())
		a.stopBus = cancel
		a.bg.Add(1)
		go func() {
			defer a.bg.Done()
			pgbus.Listen(ctx, a.cfg.DatabaseURL, a.events, pgbus.Handlers{Events: a.broker.Notify,
				Own: a.broker.NotifyOwn, Origin: a.origin, Ephemeral: a.broker.Receive, Connected: a.broker.BusConnected, Log: a.log})
		}()
	}
	a.bg.Add(3)
	go func() {
		defer a.bg.Done()
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("serve", "err", err.Error())
		}
	}()
	go func() {
		defer a.bg.Done()
		a.pruneLoop()
	}()
	go func() {
		defer a.bg.Done()
		a.sweepLoop()
	}()
	a.log.Info("listening", "addr", ln.Addr().String(), "database", a.db.Dialector.Name())
	return nil
}

// Addr is the address the server listens on (after Start).
func (a *App) Addr() string { return a.listener.Addr().String() }

// Run serves until ctx ends, then shuts down gracefully.
func (a *App) Run(ctx context.Context) error {
	if err := a.Start(); err != nil {
		a.closeDB()
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	defer cancel()
	return a.Shutdown(sctx)
}

// Shutdown stops accepting, finishes in-flight requests, closes sockets and the database.
func (a *App) Shutdown(ctx context.Context) error {
	var err error
	a.stopOnce.Do(func() {
		close(a.stop)
		if a.stopBus != nil {
			a.stopBus()
		}
		// Sockets first: closing their transports (without a Socket.IO DISCONNECT) lets clients
		// reconnect elsewhere or later and recover; pending long-polls end at once.
		if berr := a.broker.Shutdown(ctx); berr != nil {
			a.log.Warn("realtime shutdown", "err", berr.Error())
		}
		if a.srv != nil {
			err = a.srv.Shutdown(ctx)
		}
		a.bg.Wait()
		a.pages.Close(ctx) // the revisions of documents still being edited
		a.closeDB()
		a.log.Info("stopped")
	})
	return err
}

func (a *App) closeDB() { closeDB(a.db) }

// pruneLoop deletes events past retention, hourly and once at start.
func (a *App) pruneLoop() {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if _, err := a.broker.PruneSessions(ctx); err != nil {
			a.log.Warn("prune realtime sessions", "err", err.Error())
		}
		if n, err := a.events.Prune(ctx, time.Now().Add(-a.cfg.EventRetention)); err != nil {
			a.log.Warn("prune events", "err", err.Error())
		} else if n > 0 {
			a.log.Info("pruned events", "count", n)
		}
		cancel()
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
	}
}

// sweepLoop interrupts streamed messages silent for STREAM_IDLE_TIMEOUT, checking four times
// per timeout (at least every 15 s). Every process sweeps; each stream ends once.
func (a *App) sweepLoop() {
	t := time.NewTicker(min(a.cfg.Stream.IdleTimeout/4, 15*time.Second))
	defer t.Stop()
	for {
		select {
		case <-a.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if n, err := a.msgs.SweepIdle(ctx); err != nil {
			a.log.Warn("sweep idle streams", "err", err.Error())
		} else if n > 0 {
			a.log.Info("interrupted idle streams", "count", n)
		}
		cancel()
	}
}

// Routes lists the HTTP routes the app serves as "METHOD /path", path parameters written
// {name} as in docs/api.md, sorted. Wildcard routes (the static assets) and the socket endpoint,
// served beside Echo, are not among them.
func (a *App) Routes() []string {
	var out []string
	for _, r := range a.echo.Routes() {
		if r.Method == echo.RouteNotFound || strings.HasSuffix(r.Path, "*") {
			continue
		}
		parts := strings.Split(r.Path, "/")
		for i, p := range parts {
			if strings.HasPrefix(p, ":") {
				parts[i] = "{" + p[1:] + "}"
			}
		}
		out = append(out, r.Method+" "+strings.Join(parts, "/"))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

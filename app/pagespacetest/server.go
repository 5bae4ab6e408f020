package pagespacetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that creates test databases
	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apispec/apicheck"
	"github.com/pagespace/pagespace/modules/auth"
)

// Server is a pagespace server running in-process for one test.
type Server struct {
	T      testing.TB
	App    *app.App
	URL    string       // http://127.0.0.1:port
	Client *http.Client // checks every answer against the OpenAPI description
	Config app.Config
}

// Option changes the configuration Start uses.
type Option func(t testing.TB, cfg *app.Config)

// Postgres runs the server on a fresh PostgreSQL database, created through adminURL (e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable) and dropped when the test ends.
func Postgres(adminURL string) Option {
	return func(t testing.TB, cfg *app.Config) { cfg.DatabaseURL = NewPostgresDB(t, adminURL) }
}

// With applies fn to the configuration, e.g. to shorten ACCESS_TOKEN_TTL.
func With(fn func(*app.Config)) Option {
	return func(_ testing.TB, cfg *app.Config) { fn(cfg) }
}

// Config is the configuration Start begins with: a listener on 127.0.0.1:0, SQLite in
// t.TempDir(), a fixed JWT secret, cheap password hashing, rate limits off, logs discarded.
func Config(t testing.TB) app.Config {
	t.Helper()
	cfg := app.DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.DataDir = t.TempDir()
	cfg.JWTSecret = "test-secret-test-secret-test-secret-0123"
	cfg.PasswordHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1}
	cfg.AuthRateLimit = 0        // tests sign up many users from one address
	cfg.PasswordRateLimit = 0    // and log some of them in many times
	cfg.MemberEmailRateLimit = 0 // and add them to drives by email
	cfg.LogOutput = io.Discard
	return cfg
}

// Start starts a server with Config(t) changed by the options, and stops it when the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := Config(t)
	for _, o := range opts {
		o(t, &cfg)
	}
	return StartWith(t, cfg)
}

// StartWith starts a server with cfg, and stops it when the test ends.
func StartWith(t testing.TB, cfg app.Config) *Server {
	t.Helper()
	a, err := app.New(cfg)
	if err != nil {
		t.Fatalf("pagespacetest: app.New: %v", err)
	}
	if err := a.Start(); err != nil {
		t.Fatalf("pagespacetest: app.Start: %v", err)
	}
	check := apicheck.Transport(http.DefaultTransport.(*http.Transport).Clone(), func(err error) { t.Errorf("openapi: %v", err) })
	s := &Server{T: t, App: a, URL: "http://" + a.Addr(), Client: &http.Client{Timeout: 30 * time.Second, Transport: check}, Config: cfg}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("pagespacetest: shutdown: %v", err)
		}
		s.Client.CloseIdleConnections()
	})
	return s
}

// NewPostgresDB creates a fresh database through adminURL, drops it when the test ends, and
// returns its URL.
func NewPostgresDB(t testing.TB, adminURL string) string {
	t.Helper()
	db, err := sql.Open("pgx", adminURL)
	if err != nil {
		t.Fatalf("pagespacetest: postgres: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "pagespace_test_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		t.Fatalf("pagespacetest: create database (is PostgreSQL running at %s?): %v", adminURL, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("pagespacetest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(adminURL)
	if err != nil {
		t.Fatalf("pagespacetest: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

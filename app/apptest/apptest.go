// Package apptest is the project's own test harness, a thin layer over the public test kit
// (app/pagespacetest): it picks the database from the environment, SQLite in a temporary
// directory or, with PAGESPACE_TEST_DB=postgres, a new PostgreSQL database (PAGESPACE_TEST_PG,
// default postgres://postgres@127.0.0.1:5432/postgres) that is dropped when the test ends, and
// adds the fixtures the project's tests share (a World of every role, grants, event reading).
// As in the kit, every answer and socket event a test receives is checked against the API
// descriptions.
package apptest

import (
	"os"
	"testing"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/pagespacetest"
)

// Env is a running server under test: the kit's Server (App, URL, Client, Do, Signup, Dial,
// Socket...) plus the project's fixtures.
type Env struct {
	*pagespacetest.Server
}

// User is a signed-up test user.
type User = pagespacetest.User

// Response is a finished HTTP exchange.
type Response = pagespacetest.Response

// Dialect is the database the tests run on: "sqlite" (default) or "postgres".
func Dialect() string {
	if os.Getenv("PAGESPACE_TEST_DB") == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// Config returns a test configuration with a fresh database of Dialect(); Start uses it.
func Config(t testing.TB) app.Config {
	t.Helper()
	cfg := pagespacetest.Config(t)
	if testing.Verbose() && os.Getenv("PAGESPACE_TEST_LOG") != "" {
		cfg.LogOutput = os.Stderr
	}
	if Dialect() == "postgres" {
		cfg.DatabaseURL = NewPostgresDB(t)
	}
	return cfg
}

// Start starts an App with Config(t), changed by the options, and stops it when the test ends.
func Start(t testing.TB, opts ...func(*app.Config)) *Env {
	t.Helper()
	cfg := Config(t)
	for _, o := range opts {
		o(&cfg)
	}
	return StartWith(t, cfg)
}

// StartWith starts an App with cfg, and stops it when the test ends.
func StartWith(t testing.TB, cfg app.Config) *Env {
	t.Helper()
	return &Env{pagespacetest.StartWith(t, cfg)}
}

// NewPostgresDB creates a fresh database and drops it when the test ends. It returns its URL.
func NewPostgresDB(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("PAGESPACE_TEST_PG")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	return pagespacetest.NewPostgresDB(t, admin)
}

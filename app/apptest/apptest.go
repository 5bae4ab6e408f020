// Package apptest starts a whole App for tests: a real HTTP listener on 127.0.0.1:0 and a fresh
// database per call, SQLite in a temporary directory or, with PAGESPACE_TEST_DB=postgres, a new
// PostgreSQL database (PAGESPACE_TEST_PG, default postgres://postgres@127.0.0.1:5432/postgres)
// that is dropped when the test ends. Helpers make authenticated JSON calls.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the admin connection that creates test databases
	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apispec/apicheck"
	"github.com/pagespace/pagespace/modules/auth"
	"github.com/pagespace/pagespace/realtime/sioclient"
)

// Env is a running server under test.
type Env struct {
	T      testing.TB
	App    *app.App
	URL    string // http://127.0.0.1:port
	Client *http.Client
	Config app.Config
}

// Dialect is the database the tests run on: "sqlite" (default) or "postgres".
func Dialect() string {
	if os.Getenv("PAGESPACE_TEST_DB") == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// Config returns a test configuration with a fresh database; Start uses it.
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
	a, err := app.New(cfg)
	if err != nil {
		t.Fatalf("app.New: %v", err)
	}
	if err := a.Start(); err != nil {
		t.Fatalf("app.Start: %v", err)
	}
	// Every answer a test receives through Client is checked against openapi.json.
	check := apicheck.Transport(http.DefaultTransport.(*http.Transport).Clone(), func(err error) { t.Errorf("openapi: %v", err) })
	env := &Env{T: t, App: a, URL: "http://" + a.Addr(), Client: &http.Client{Timeout: 30 * time.Second, Transport: check}, Config: cfg}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := a.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		env.Client.CloseIdleConnections()
	})
	return env
}

// Dial opens a Socket.IO client to the server (see sioclient.Dial). Every event and ack it
// receives is checked against asyncapi.json; a mismatch fails the test.
func (e *Env) Dial(ctx context.Context, auth any, header http.Header) (*sioclient.Client, error) {
	return sioclient.DialOptions(ctx, e.URL, auth, SocketChecks(e.T, header))
}

// SocketChecks are sioclient options that check every event and ack against asyncapi.json,
// failing t on a mismatch (until t's cleanup begins: a socket may outlive its test by a moment).
func SocketChecks(t testing.TB, header http.Header) sioclient.Options {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
	})
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Errorf("asyncapi: %v", err)
		}
	}
	check, err := apicheck.AsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	return sioclient.Options{
		Header: header,
		OnEvent: func(ev sioclient.Event) {
			if err := check.Event(ev.Name, ev.Args, ev.Offset); err != nil {
				report(err)
			}
		},
		OnAck: func(event string, args []json.RawMessage) {
			if err := check.Ack(event, args); err != nil {
				report(err)
			}
		},
	}
}

// NewPostgresDB creates a fresh database and drops it when the test ends. It returns its URL.
func NewPostgresDB(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("PAGESPACE_TEST_PG")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "pagespace_test_" + hex.EncodeToString(b)
	if _, err := db.Exec("CREATE DATABASE " + name); err != nil {
		db.Close()
		t.Fatalf("create database (is PostgreSQL running on 127.0.0.1:5432?): %v", err)
	}
	t.Cleanup(func() {
		defer db.Close()
		if _, err := db.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	return u.String()
}

// Response is a finished HTTP exchange.
type Response struct {
	T      testing.TB
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test on error.
func (r *Response) JSON(v any) {
	r.T.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		r.T.Fatalf("decode %q: %v", r.Body, err)
	}
}

// Map decodes the body as an object.
func (r *Response) Map() map[string]any {
	r.T.Helper()
	var m map[string]any
	r.JSON(&m)
	return m
}

// ErrorCode is error.code of an error body ("" when absent).
func (r *Response) ErrorCode() string {
	var b struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &b)
	return b.Error.Code
}

// Expect fails the test unless the status is want.
func (r *Response) Expect(want int) *Response {
	r.T.Helper()
	if r.Status != want {
		r.T.Fatalf("status %d, want %d; body %s", r.Status, want, r.Body)
	}
	return r
}

// Do sends a request. body may be nil, a string or []byte (sent as is), or a value to encode.
func (e *Env) Do(method, path, token string, body any) *Response {
	e.T.Helper()
	resp, err := e.send(method, path, token, body)
	if err != nil {
		e.T.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

// Send is Do for goroutines other than the test's: it returns errors instead of failing the
// test (t.Fatal may only be called from the test's goroutine).
func (e *Env) Send(method, path, token string, body any) (status int, data []byte, err error) {
	resp, err := e.send(method, path, token, body)
	if err != nil {
		return 0, nil, err
	}
	return resp.Status, resp.Body, nil
}

func (e *Env) send(method, path, token string, body any) (*Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.URL+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := e.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return &Response{T: e.T, Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// User is a signed-up test user.
type User struct {
	ID           string
	Email        string
	Name         string
	Token        string
	RefreshToken string
}

var userSeq atomic.Int64

// Signup creates a user named name (with a unique email) and returns it with its tokens.
func (e *Env) Signup(name string) User {
	e.T.Helper()
	email := fmt.Sprintf("%s.%d.%d@example.com", strings.ToLower(strings.ReplaceAll(name, " ", ".")), time.Now().UnixNano(), userSeq.Add(1))
	var s struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
		AccessToken  string `json:"accessToken"`
		RefreshToken string `json:"refreshToken"`
	}
	e.Do("POST", "/api/auth/signup", "", map[string]string{"email": email, "password": "correct horse", "name": name}).Expect(201).JSON(&s)
	return User{ID: s.User.ID, Email: email, Name: name, Token: s.AccessToken, RefreshToken: s.RefreshToken}
}

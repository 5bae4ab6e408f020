package pagespacetest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/pagespacetest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// docs/testing.md shows example_bot_test.go verbatim, so the documented example is a test
// that runs.
func TestTestingDocShowsTheExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/testing.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("example_bot_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "```go\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("docs/testing.md has no go code block")
	}
	if block != string(src) {
		t.Error("the code block of docs/testing.md differs from example_bot_test.go: copy the file into the doc")
	}
	if n := strings.Count(block, "\n"); n >= 40 {
		t.Errorf("the example has %d lines; the doc promises under 40", n)
	}
}

// The kit on PostgreSQL (run with PAGESPACE_TEST_DB=postgres), with a setting changed, and
// with a socket that joins a drive and sees a page created in it.
func TestKitOptionsAndDriveEvents(t *testing.T) {
	var opts []pagespacetest.Option
	if os.Getenv("PAGESPACE_TEST_DB") == "postgres" {
		admin := os.Getenv("PAGESPACE_TEST_PG")
		if admin == "" {
			admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
		}
		opts = append(opts, pagespacetest.Postgres(admin))
	}
	opts = append(opts, pagespacetest.With(func(c *app.Config) { c.BodyLimit = 4096 }))
	srv := pagespacetest.Start(t, opts...)
	if want := os.Getenv("PAGESPACE_TEST_DB") == "postgres"; want != strings.HasPrefix(srv.Config.DatabaseURL, "postgres") {
		t.Fatalf("database URL %q", srv.Config.DatabaseURL)
	}
	ada := srv.Signup("Ada")
	drive := srv.CreateDrive(ada, "Team")
	if code := srv.Do("POST", "/api/drives", ada.Token, strings.Repeat("x", 5000)).Expect(413).ErrorCode(); code != "payload_too_large" {
		t.Fatalf("over the body limit: %s", code)
	}
	sock := srv.Socket(ada)
	sock.JoinDrive(drive)
	page := srv.CreatePage(ada, drive, "DOCUMENT", "Notes", "")
	var p struct{ PageID string }
	ev := sock.Await("page_created")
	if err := ev.Decode(0, &p); err != nil || p.PageID != page || ev.Offset == "" {
		t.Fatalf("page_created %+v offset %q (%v)", p, ev.Offset, err)
	}
	if ack := sock.Call("join_page", "no-such-page"); ack["ok"] != false {
		t.Fatalf("join of an unknown page: %v", ack)
	}
}

// A test outside this module names the socket client's types through the kit: a refused
// CONNECT is a *ConnectError, and a closed socket's calls return ErrClosed.
func TestKitNamesTheSocketClient(t *testing.T) {
	srv := pagespacetest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := srv.Dial(ctx, map[string]any{"token": "garbage"}, nil)
	var refused *pagespacetest.ConnectError
	if !errors.As(err, &refused) || refused.Code() != "invalid_token" {
		t.Fatalf("bad token: %v", err)
	}
	var c *pagespacetest.Client = srv.Socket(srv.Signup("Ada")).Client
	c.Close()
	if _, err := c.Next(ctx); !errors.Is(err, pagespacetest.ErrClosed) {
		t.Fatalf("next on a closed socket: %v", err)
	}
}

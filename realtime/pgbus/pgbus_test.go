package pgbus_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/realtime/pgbus"
	"go.uber.org/goleak"
)

type noLog struct{}

func (noLog) Latest(context.Context) (int64, error) { return 0, nil }

// A notification that names this process's origin goes to Own, any other to Events, in the
// order they arrive.
func TestOwnNotificationsAreToldApart(t *testing.T) {
	if apptest.Dialect() != "postgres" {
		t.Skip("the bus is PostgreSQL's LISTEN/NOTIFY")
	}
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // last: after the database is dropped
	url := apptest.NewPostgresDB(t)
	type heard struct {
		own bool
		id  int64
	}
	got := make(chan heard, 16)
	connected := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		pgbus.Listen(ctx, url, noLog{}, pgbus.Handlers{
			Origin:    "me",
			Own:       func(id int64) { got <- heard{true, id} },
			Events:    func(id int64) { got <- heard{false, id} },
			Connected: func() { connected <- struct{}{} },
		})
	}()
	defer func() { cancel(); <-done }()
	wait, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	select {
	case <-connected:
	case <-wait.Done():
		t.Fatal("the listener never connected")
	}
	conn, err := pgx.Connect(wait, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for _, payload := range []string{"5 me", "6 other", "7", "garbage", "8 me"} {
		if _, err := conn.Exec(wait, "SELECT pg_notify($1, $2)", eventlog.NotifyChannel, payload); err != nil {
			t.Fatal(err)
		}
	}
	want := []heard{{true, 5}, {false, 6}, {false, 7}, {true, 8}}
	for i, w := range want {
		select {
		case h := <-got:
			if h != w {
				t.Fatalf("notification %d: got %+v, want %+v", i, h, w)
			}
		case <-wait.Done():
			t.Fatalf("notification %d (%+v) never handled", i, w)
		}
	}
}

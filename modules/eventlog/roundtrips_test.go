package eventlog_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// advisoryKey is the log's lock (eventlog.advisoryKey), as pg_locks shows it: a one-key lock
// has the key's low 32 bits in objid and objsubid 1.
const advisoryKey = 7249002

// An event costs one round trip: the log's lock and NOTIFY travel in the statements that insert
// the events, and several drafts still get ids in draft order, one NOTIFY with the last.
func TestTxRoundTrips(t *testing.T) {
	env := apptest.Start(t)
	var listen *pgx.Conn
	if apptest.Dialect() == "postgres" {
		var err error
		listen, err = pgx.Connect(context.Background(), env.Config.DatabaseURL)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { listen.Close(context.Background()) })
		if _, err := listen.Exec(context.Background(), "LISTEN "+eventlog.NotifyChannel); err != nil {
			t.Fatal(err)
		}
	}
	db, stmts := apptest.CountStatements(t, env.App.DB())
	log := eventlog.New(db, nil)
	for _, n := range []int{1, 3} {
		stmts.Reset()
		evs, err := log.Tx(context.Background(), func(tx *gorm.DB, r *eventlog.Recorder) error {
			for i := range n {
				// Rooms of the page and of its own drive: no event_rooms row to write.
				r.Record(eventlog.PageDraft("test", "u1", "d1", "p1", map[string]int{"i": i}))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// On PostgreSQL the last event's statement carries COMMIT.
		want := map[string]int{"postgres": n + 1, "sqlite": n + 2}[apptest.Dialect()]
		if got := len(stmts.List()); got != want {
			t.Errorf("%d events took %d round trips, want %d (begin, one each, commit unless it went with the last):\n%s", n, got, want, stmts)
		}
		stored, err := log.After(context.Background(), evs[0].ID-1, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != n || len(stored) != n {
			t.Fatalf("wrote %d events, stored %d, want %d", len(evs), len(stored), n)
		}
		for i, e := range evs {
			if i > 0 && e.ID != evs[i-1].ID+1 {
				t.Fatalf("ids %d then %d", evs[i-1].ID, e.ID)
			}
			s := stored[i]
			if s.ID != e.ID || s.Payload != e.Payload || s.Payload == "" || len(s.Rooms) != 2 || s.Rooms[0] != modules.PageRoom("p1") ||
				s.Access != nil || *s.DriveID != "d1" || *s.PageID != "p1" || *s.ActorID != "u1" || !s.CreatedAt.Equal(e.CreatedAt) {
				t.Fatalf("stored %+v, wrote %+v", s, e)
			}
		}
		if listen != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			note, err := listen.WaitForNotification(ctx)
			cancel()
			if err != nil {
				t.Fatal(err)
			}
			if note.Payload != evs[n-1].EventID() {
				t.Fatalf("NOTIFY %q after events %d..%d, want the last", note.Payload, evs[0].ID, evs[n-1].ID)
			}
		}
	}
}

// The log's lock is taken before the event's id is drawn: a writer that waits for the lock
// draws its id after whoever held it. Were the id drawn first, a transaction that committed
// while the writer waited would hold a later id, and the log would commit out of order.
func TestLockBeforeID(t *testing.T) {
	env, holder := startHoldingLogLock(t)
	ctx := context.Background()
	log := eventlog.New(env.App.DB(), nil)
	type result struct {
		evs []eventlog.Event
		err error
	}
	done := make(chan result, 1)
	go func() {
		evs, err := log.Tx(ctx, func(tx *gorm.DB, r *eventlog.Recorder) error {
			r.Record(eventlog.PageDraft("test", "u1", "d1", "p1", nil))
			return nil
		})
		done <- result{evs, err}
	}()
	waitForLockWaiters(t, holder, 1, done)
	var drawn int64
	if err := holder.QueryRow(ctx, "SELECT nextval('events_id_seq')").Scan(&drawn); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", advisoryKey); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the writer did not finish once the lock was free")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if got := r.evs[0].ID; got <= drawn {
		t.Fatalf("the writer's event has id %d, drawn before %d was drawn under the lock it waited for", got, drawn)
	}
}

// A commit's notification carries its last id and the origin of the process that wrote it, so
// that the process's own listener can tell its notifications apart.
func TestNotificationNamesItsOrigin(t *testing.T) {
	if apptest.Dialect() != "postgres" {
		t.Skip("NOTIFY is PostgreSQL's")
	}
	env := apptest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	listener, err := pgx.Connect(ctx, env.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer listener.Close(context.Background())
	if _, err := listener.Exec(ctx, "LISTEN "+eventlog.NotifyChannel); err != nil {
		t.Fatal(err)
	}
	for _, origin := range []string{"", "proc-a"} {
		log := eventlog.New(env.App.DB(), nil)
		log.SetOrigin(origin)
		evs, err := log.Tx(ctx, func(tx *gorm.DB, r *eventlog.Recorder) error {
			r.Record(eventlog.PageDraft("test", "u1", "d1", "p1", nil))
			r.Record(eventlog.PageDraft("test", "u1", "d1", "p1", nil))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// The server's own commits notify too; skip to this one's.
		for {
			n, err := listener.WaitForNotification(ctx)
			if err != nil {
				t.Fatalf("origin %q: no notification: %v", origin, err)
			}
			id, got, ok := eventlog.ParseNotification(n.Payload)
			if !ok {
				t.Fatalf("payload %q does not parse", n.Payload)
			}
			if id < evs[1].ID {
				continue
			}
			if id != evs[1].ID || got != origin {
				t.Fatalf("notification %q: got id %d origin %q, want %d %q", n.Payload, id, got, evs[1].ID, origin)
			}
			break
		}
	}
}

func TestParseNotification(t *testing.T) {
	for _, c := range []struct {
		in     string
		id     int64
		origin string
		ok     bool
	}{
		{"42", 42, "", true},
		{"42 0193-abc", 42, "0193-abc", true},
		{"", 0, "", false},
		{"0", 0, "", false},
		{"-3 a", 0, "", false},
		{"x 1", 0, "", false},
		{" 42", 0, "", false},
	} {
		id, origin, ok := eventlog.ParseNotification(c.in)
		if id != c.id || origin != c.origin || ok != c.ok {
			t.Errorf("ParseNotification(%q) = %d, %q, %v; want %d, %q, %v", c.in, id, origin, ok, c.id, c.origin, c.ok)
		}
	}
}

// Writers of one process wait for the log's order inside PostgreSQL, not in Go: while another
// connection holds the advisory lock, two writers are both queued on it (with a lock in Go held
// from the insert to COMMIT, only one would be), and once it is free they publish in id order.
func TestWritersQueueInPostgres(t *testing.T) {
	env, holder := startHoldingLogLock(t)
	ctx := context.Background()
	rec := &recorder{}
	log := eventlog.New(env.App.DB(), rec)
	const writers = 2
	done := make(chan error, writers)
	for range writers {
		go func() {
			_, err := log.Tx(ctx, func(tx *gorm.DB, r *eventlog.Recorder) error {
				r.Record(eventlog.PageDraft("test", "u1", "d1", "p1", nil))
				return nil
			})
			done <- err
		}()
	}
	waitForLockWaiters(t, holder, writers, done)
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", advisoryKey); err != nil {
		t.Fatal(err)
	}
	for range writers {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a writer did not finish once the lock was free")
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.events) != writers || rec.events[0].ID >= rec.events[1].ID {
		t.Fatalf("published %+v, want %d events in id order", rec.events, writers)
	}
}

// startHoldingLogLock starts the server and takes the log's advisory lock on a connection of its
// own, which the test closes at its end. It skips the test on SQLite, which has no such lock.
func startHoldingLogLock(t *testing.T) (*apptest.Env, *pgx.Conn) {
	t.Helper()
	if apptest.Dialect() != "postgres" {
		t.Skip("the advisory lock is PostgreSQL's; SQLite has one writer")
	}
	env := apptest.Start(t)
	ctx := context.Background()
	holder, err := pgx.Connect(ctx, env.Config.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Close(ctx) })
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_lock($1)", advisoryKey); err != nil {
		t.Fatal(err)
	}
	return env, holder
}

// waitForLockWaiters returns once n sessions wait for the log's lock held by holder. It fails the
// test if a writer reports on finished first (it did not wait), or after 10 s.
func waitForLockWaiters[T any](t *testing.T, holder *pgx.Conn, n int, finished <-chan T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		err := holder.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND classid = 0 AND objid = $1 AND objsubid = 1 AND NOT granted`, advisoryKey).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting == n {
			return
		}
		select {
		case r := <-finished:
			t.Fatalf("a writer finished while the lock was held: %+v", r)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writers wait for the lock in PostgreSQL, want %d", waiting, n)
		}
	}
}

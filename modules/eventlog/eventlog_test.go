package eventlog_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

type recorder struct {
	mu     sync.Mutex
	events []eventlog.Event
}

func (r *recorder) Publish(events []eventlog.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, events...)
}

// Concurrent writers: what is published comes in strictly increasing id order with no gaps, and
// equals what the log holds. On PostgreSQL this fails without the commit-order lock.
func TestPublishedInCommitOrder(t *testing.T) {
	env := apptest.Start(t)
	rec := &recorder{}
	log := eventlog.New(env.App.DB(), rec)
	const writers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := log.Tx(context.Background(), func(tx *gorm.DB, r *eventlog.Recorder) error {
					r.Record(eventlog.Draft{Type: "test", Rooms: []string{"user:x"}, Data: map[string]any{"w": w, "i": i}})
					r.Record(eventlog.Draft{Type: "test2", Rooms: []string{"user:x"}})
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(rec.events) != writers*each*2 {
		t.Fatalf("published %d events, want %d", len(rec.events), writers*each*2)
	}
	for i := 1; i < len(rec.events); i++ {
		if rec.events[i].ID != rec.events[i-1].ID+1 {
			t.Fatalf("published out of order or with a gap at %d: %d then %d", i, rec.events[i-1].ID, rec.events[i].ID)
		}
	}
	stored, err := log.After(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != len(rec.events) || stored[0].ID != rec.events[0].ID {
		t.Fatalf("log holds %d events, published %d", len(stored), len(rec.events))
	}
}

// A failed transaction leaves no event and publishes nothing.
func TestRollbackLeavesNoEvent(t *testing.T) {
	env := apptest.Start(t)
	rec := &recorder{}
	log := eventlog.New(env.App.DB(), rec)
	boom := errors.New("boom")
	_, err := log.Tx(context.Background(), func(tx *gorm.DB, r *eventlog.Recorder) error {
		r.Record(eventlog.Draft{Type: "test", Rooms: []string{"user:x"}})
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err %v", err)
	}
	n, _ := log.Latest(context.Background())
	if n != 0 || len(rec.events) != 0 {
		t.Fatalf("rollback left events: latest %d, published %d", n, len(rec.events))
	}
}

func TestPayloadAndPrune(t *testing.T) {
	env := apptest.Start(t)
	log := eventlog.New(env.App.DB(), nil)
	evs, err := log.Tx(context.Background(), func(tx *gorm.DB, r *eventlog.Recorder) error {
		r.Record(eventlog.Draft{Type: "page_created", DriveID: "d1", PageID: "p1", ActorID: "u1",
			Rooms: []string{"page:p1", "drive:d1"}, Data: map[string]any{"page": map[string]string{"id": "p1"}}})
		return nil
	})
	if err != nil || len(evs) != 1 {
		t.Fatalf("tx: %v %d", err, len(evs))
	}
	var p map[string]any
	if err := json.Unmarshal(evs[0].JSON(), &p); err != nil {
		t.Fatalf("payload %s: %v", evs[0].JSON(), err)
	}
	if p["eventId"] != evs[0].EventID() || p["pageId"] != "p1" || p["driveId"] != "d1" || p["actorId"] != "u1" || p["type"] != "page_created" || p["at"] == nil {
		t.Fatalf("payload %v", p)
	}
	if got := evs[0].RoomList(); len(got) != 2 || got[0] != "page:p1" {
		t.Fatalf("rooms %v", got)
	}
	n, err := log.Prune(context.Background(), time.Now().Add(time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("prune: %d %v", n, err)
	}
	// Ids are never reused after pruning.
	evs2, err := log.Tx(context.Background(), func(tx *gorm.DB, r *eventlog.Recorder) error {
		r.Record(eventlog.Draft{Type: "x", Rooms: []string{}})
		return nil
	})
	if err != nil || evs2[0].ID <= evs[0].ID {
		t.Fatalf("id after prune %d, before %d (%v)", evs2[0].ID, evs[0].ID, err)
	}
}

// A writer that arrives while others write without pause gets its turn after those already
// waiting, not after however many commits chance allows. On SQLite a waiting writer polls for
// the lock and lost to the others for seconds (thousands of commits) without the queue.
func TestWriterIsNotStarved(t *testing.T) {
	if apptest.Dialect() != "sqlite" {
		t.Skip("PostgreSQL writers do not wait for one lock: the queue is SQLite's")
	}
	env := apptest.Start(t)
	log := eventlog.New(env.App.DB(), nil)
	const writers, probes = 8, 20
	write := func() error {
		_, err := log.Tx(context.Background(), func(tx *gorm.DB, r *eventlog.Recorder) error {
			r.Record(eventlog.Draft{Type: "test", Rooms: []string{"user:x"}})
			return nil
		})
		return err
	}
	var (
		commits atomic.Int64
		started sync.WaitGroup
		wg      sync.WaitGroup
		stop    = make(chan struct{})
		errs    = make(chan error, writers)
	)
	for range writers {
		started.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := write(); err != nil {
					errs <- err
					if i == 0 {
						started.Done()
					}
					return
				}
				commits.Add(1)
				if i == 0 {
					started.Done()
				}
			}
		}()
	}
	started.Wait()
	worst := int64(0)
	for range probes {
		before := commits.Load()
		if err := write(); err != nil {
			t.Error(err)
		}
		worst = max(worst, commits.Load()-before)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Each other writer may commit once ahead of the probe (the one writing when it arrived and
	// those queued before it), and may have committed once before it arrived but counted only
	// after: at most two per writer. Without the queue it was 29 to 728.
	if worst > 2*writers {
		t.Fatalf("a writer waited for %d commits of %d others", worst, writers)
	}
}

package schedule_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/pagespace/pagespace/internal/schedule"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait is the deadline of every wait on an event; tests never sleep.
const wait = 5 * time.Second

type owner struct {
	id   int
	slot schedule.Slot[*owner]
}

func next(t *testing.T, fired <-chan int) int {
	t.Helper()
	select {
	case id := <-fired:
		return id
	case <-time.After(wait):
		t.Fatal("nothing fired")
		return 0
	}
}

// Every due slot fires once, however many fall due together.
func TestDueSlotsFireOnce(t *testing.T) {
	fired := make(chan int, 300)
	q := schedule.New(func(o *owner) { fired <- o.id })
	defer q.Stop()
	rng := rand.New(rand.NewPCG(1, 2))
	owners := make([]*owner, 300)
	for i := range owners {
		owners[i] = &owner{id: i}
		q.Schedule(&owners[i].slot, owners[i], time.Now().Add(-time.Duration(rng.IntN(1000))*time.Millisecond))
	}
	seen := make([]bool, len(owners))
	for range owners {
		id := next(t, fired)
		if seen[id] {
			t.Fatalf("slot %d fired twice", id)
		}
		seen[id] = true
	}
	if q.Cancel(&owners[0].slot) {
		t.Fatal("a slot that fired was still scheduled")
	}
}

// A future deadline fires after the earlier ones; rescheduling replaces the deadline, and a
// callback may schedule its own slot again.
func TestRescheduleAndRefire(t *testing.T) {
	fired := make(chan int, 10)
	var q *schedule.Queue[*owner]
	again := 2
	q = schedule.New(func(o *owner) {
		fired <- o.id
		if o.id == 1 && again > 0 { // fire runs one at a time per run: again is the callback's own
			again--
			q.Schedule(&o.slot, o, time.Now())
		}
	})
	defer q.Stop()
	far, soon, self := &owner{id: 0}, &owner{id: 2}, &owner{id: 1}
	q.Schedule(&far.slot, far, time.Now().Add(time.Hour))
	q.Schedule(&soon.slot, soon, time.Now().Add(time.Hour))
	q.Schedule(&soon.slot, soon, time.Now()) // moved to now
	if id := next(t, fired); id != 2 {
		t.Fatalf("fired %d first, want the rescheduled slot", id)
	}
	q.Schedule(&self.slot, self, time.Now())
	for range 3 {
		if id := next(t, fired); id != 1 {
			t.Fatalf("fired %d, want the slot that schedules itself", id)
		}
	}
	if !q.Cancel(&far.slot) {
		t.Fatal("the far slot fired or was lost")
	}
}

// A stopped queue forgets its slots and schedules nothing more; it leaves no goroutine (goleak).
func TestStop(t *testing.T) {
	fired := make(chan int, 1)
	q := schedule.New(func(o *owner) { fired <- o.id })
	o := &owner{id: 7}
	q.Schedule(&o.slot, o, time.Now().Add(time.Hour))
	q.Stop()
	if q.Cancel(&o.slot) {
		t.Fatal("a slot survived Stop")
	}
	q.Schedule(&o.slot, o, time.Now())
	if q.Cancel(&o.slot) {
		t.Fatal("Schedule after Stop took effect")
	}
}

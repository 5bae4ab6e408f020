package schedule

import (
	"math/rand/v2"
	"testing"
	"time"
)

// The heap stays ordered through any mix of schedules, reschedules and cancels: taking its root
// again and again yields the deadlines in order, and each slot knows its position. The deadlines
// are an hour away, so the timer never fires during the test.
func TestHeapOrder(t *testing.T) {
	q := New(func(*int) {})
	defer q.Stop()
	rng := rand.New(rand.NewPCG(3, 4))
	slots := make([]Slot[*int], 500)
	owners := make([]int, len(slots))
	base := time.Now().Add(time.Hour)
	for range 5000 {
		i := rng.IntN(len(slots))
		if rng.IntN(4) == 0 {
			q.Cancel(&slots[i])
			continue
		}
		q.Schedule(&slots[i], &owners[i], base.Add(time.Duration(rng.IntN(1_000_000))*time.Microsecond))
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, s := range q.heap {
		if s.pos != i+1 {
			t.Fatalf("slot at %d says it is at %d", i, s.pos-1)
		}
	}
	last := int64(-1 << 63)
	for len(q.heap) > 0 {
		at := q.heap[0].at
		if at < last {
			t.Fatalf("deadline %d after %d", at, last)
		}
		last = at
		q.remove(0)
	}
}

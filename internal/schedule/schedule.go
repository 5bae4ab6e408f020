// Package schedule runs callbacks at given times for many owners on one runtime timer.
//
// A server that keeps a deadline per connection (the next heartbeat, a token's expiry) with a
// time.Timer each pays about 150 bytes per connection for the timer and its callback, and a
// goroutine per firing: deadlines that fall together start thousands of goroutines at once, and
// the runtime keeps every goroutine descriptor it ever made. A Queue keeps the deadlines in a
// min-heap instead, each in a Slot that its owner embeds (no allocation), and arms one timer for
// the earliest; when it fires, every deadline that is due runs on that one goroutine, in order.
//
// Owners must tolerate a callback that arrives after they rescheduled or cancelled (it may have
// been taken off the heap just before): the callback checks the owner's own state, as a
// time.AfterFunc callback would have to.
package schedule

import (
	"sync"
	"time"
)

// Slot is an owner's place in a Queue: its deadline and its position in the heap. The zero value
// is not scheduled. Its fields belong to the Queue, which guards them with its mutex.
type Slot[T any] struct {
	at    int64 // nanoseconds after the queue's epoch
	pos   int   // 1 + index in the heap; 0: not scheduled
	owner T
}

// Queue runs fire(owner) for each scheduled slot once its time has come. Its methods are safe
// for concurrent use; fire runs without the queue's lock held, so it may schedule again.
type Queue[T any] struct {
	fire  func(T)
	epoch time.Time

	mu      sync.Mutex
	heap    []*Slot[T]
	timer   *time.Timer // created on first use
	armed   bool        // the timer will run at armedAt
	armedAt int64
	stopped bool
}

// New returns an empty queue that calls fire for the slots that fall due.
func New[T any](fire func(T)) *Queue[T] {
	return &Queue[T]{fire: fire, epoch: time.Now()}
}

// Schedule makes s fire owner at at, replacing the deadline s had. It does nothing once the queue
// is stopped.
func (q *Queue[T]) Schedule(s *Slot[T], owner T, at time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return
	}
	s.at, s.owner = int64(at.Sub(q.epoch)), owner
	if s.pos == 0 {
		q.heap = append(q.heap, s)
		s.pos = len(q.heap)
	}
	q.fix(s.pos - 1)
	q.arm()
}

// Cancel unschedules s and reports whether it was scheduled.
func (q *Queue[T]) Cancel(s *Slot[T]) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if s.pos == 0 {
		return false
	}
	q.remove(s.pos - 1)
	q.arm()
	return true
}

// Stop cancels every slot and the timer; later Schedule calls do nothing.
func (q *Queue[T]) Stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = true
	for _, s := range q.heap {
		s.pos = 0
		var zero T
		s.owner = zero
	}
	q.heap = nil
	q.arm()
}

// run fires every slot that is due, then arms the timer for the next.
func (q *Queue[T]) run() {
	q.mu.Lock()
	q.armed = false
	now := int64(time.Since(q.epoch))
	var due []T
	for len(q.heap) > 0 && q.heap[0].at <= now {
		due = append(due, q.heap[0].owner)
		q.remove(0)
	}
	q.arm()
	q.mu.Unlock()
	for _, owner := range due {
		q.fire(owner)
	}
}

// arm points the timer at the earliest deadline, or stops it when there is none. q.mu is held.
func (q *Queue[T]) arm() {
	if len(q.heap) == 0 {
		if q.armed {
			q.timer.Stop()
			q.armed = false
		}
		return
	}
	at := q.heap[0].at
	if q.armed && at == q.armedAt {
		return
	}
	q.armed, q.armedAt = true, at
	d := time.Duration(at) - time.Since(q.epoch)
	if q.timer == nil {
		q.timer = time.AfterFunc(d, q.run)
		return
	}
	q.timer.Reset(d)
}

// remove takes the slot at index i off the heap. q.mu is held.
func (q *Queue[T]) remove(i int) {
	s := q.heap[i]
	last := len(q.heap) - 1
	if i != last {
		q.swap(i, last)
	}
	q.heap[last] = nil
	q.heap = q.heap[:last]
	s.pos = 0
	var zero T
	s.owner = zero
	if i != last {
		q.fix(i)
	}
}

// fix restores the heap order around index i after its deadline changed. q.mu is held.
func (q *Queue[T]) fix(i int) {
	if !q.down(i) {
		q.up(i)
	}
}

func (q *Queue[T]) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if q.heap[parent].at <= q.heap[i].at {
			return
		}
		q.swap(i, parent)
		i = parent
	}
}

// down moves index i towards the leaves while a child is earlier; it reports whether it moved.
func (q *Queue[T]) down(i int) bool {
	start := i
	for {
		child := 2*i + 1
		if child >= len(q.heap) {
			break
		}
		if right := child + 1; right < len(q.heap) && q.heap[right].at < q.heap[child].at {
			child = right
		}
		if q.heap[i].at <= q.heap[child].at {
			break
		}
		q.swap(i, child)
		i = child
	}
	return i > start
}

func (q *Queue[T]) swap(i, j int) {
	q.heap[i], q.heap[j] = q.heap[j], q.heap[i]
	q.heap[i].pos, q.heap[j].pos = i+1, j+1
}

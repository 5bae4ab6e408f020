package eventlog

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// Transactions publish in id order, whatever order their commits are heard in.
func TestOrderPublishesByID(t *testing.T) {
	var l Log
	l.order.moved.L = &l.order.mu
	const n = 50
	flights := make([]*flight, n)
	for i := range flights {
		flights[i] = l.order.begin()
	}
	var (
		mu  sync.Mutex
		got []int64
		wg  sync.WaitGroup
	)
	// Heard in reverse order; the ids are scrambled against the order they began in; one failed.
	for i := n - 1; i >= 0; i-- {
		id := int64((i*7)%n + 1)
		if i == 3 {
			id = 0
		}
		wg.Add(1)
		go func(f *flight, id int64) {
			defer wg.Done()
			if id == 0 { // failed: it never ends
				l.order.finish(f)
				return
			}
			l.order.end(f, id)
			l.order.wait(f)
			mu.Lock()
			got = append(got, id)
			mu.Unlock()
			l.order.finish(f)
		}(flights[i], id)
	}
	wg.Wait()
	if len(got) != n-1 || !slices.IsSorted(got) {
		t.Fatalf("published %v, want %d ids in order", got, n-1)
	}
}

// A transaction that began after another's commit was heard does not hold that one back.
func TestOrderLaterFlightDoesNotBlock(t *testing.T) {
	var l Log
	l.order.moved.L = &l.order.mu
	first := l.order.begin()
	l.order.end(first, 10)
	later := l.order.begin() // still in flight
	done := make(chan struct{})
	go func() {
		l.order.wait(first)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a flight that began after the commit was heard held it back")
	}
	l.order.finish(first)
	l.order.end(later, 11)
	l.order.wait(later)
	l.order.finish(later)
}

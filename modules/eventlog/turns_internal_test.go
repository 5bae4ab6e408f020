package eventlog

import (
	"sync"
	"testing"
)

// Turns run in the order they were taken, whatever order their holders arrive in.
func TestTurnsRunInTakenOrder(t *testing.T) {
	var l Log
	l.turns.moved.L = &l.turns.mu
	const n = 50
	tickets := make([]uint64, n)
	for i := range tickets {
		tickets[i] = l.turns.take()
	}
	var (
		mu  sync.Mutex
		ran []uint64
		wg  sync.WaitGroup
	)
	for i := n - 1; i >= 0; i-- { // the last taken arrives first
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.turns.wait(tickets[i])
			mu.Lock()
			ran = append(ran, tickets[i])
			mu.Unlock()
			l.turns.done()
		}()
	}
	wg.Wait()
	for i, got := range ran {
		if got != uint64(i) {
			t.Fatalf("turn %d ran as number %d: %v", got, i, ran)
		}
	}
}

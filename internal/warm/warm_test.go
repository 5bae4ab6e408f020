package warm

import (
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Tasks run, each once; goroutines left idle are reused, at most maxIdle of them wait, and
// Close ends them.
func TestPoolReusesAndCloses(t *testing.T) {
	p := New(2)
	var wg sync.WaitGroup
	var mu sync.Mutex
	ran := map[int]int{}
	release := make(chan struct{})
	for i := range 5 {
		wg.Add(1)
		p.Go(func() {
			defer wg.Done()
			<-release // all five run at once: five goroutines
			mu.Lock()
			ran[i]++
			mu.Unlock()
		})
	}
	close(release)
	wg.Wait()
	for i := range 5 {
		if ran[i] != 1 {
			t.Fatalf("task %d ran %d times", i, ran[i])
		}
	}
	waitFor(t, func() bool { return p.Idle() == 2 }) // three of the five ended
	// An idle goroutine takes the next task: none is started.
	done := make(chan struct{})
	p.Go(func() { close(done) })
	<-done
	waitFor(t, func() bool { return p.Idle() == 2 })
	p.Close()
	waitFor(t, func() bool { return p.Idle() == 0 })
	// After Close a task still runs.
	after := make(chan struct{})
	p.Go(func() { close(after) })
	<-after
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

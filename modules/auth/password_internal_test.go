package auth

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pagespace/pagespace/modules"
)

// The hashing budget is a mechanism inside the package; these tests hold it deterministically,
// which a black-box test cannot do without timing.

// TestHasherWaitEndsWithContext: a hash that cannot get its share of the budget before its
// context ends answers ErrBusy (503 unavailable), never an internal error.
func TestHasherWaitEndsWithContext(t *testing.T) {
	p := HashParams{Memory: 64, Time: 1, Threads: 1}
	h := newHasher(p, 64<<10) // room for one hash
	encoded, err := h.hash(context.Background(), "secret password")
	if err != nil {
		t.Fatal(err)
	}
	held, release := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() { done <- h.run(context.Background(), p.Memory, func() { close(held); <-release }) }()
	<-held
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := h.check(ctx, "secret password", encoded)
		errc <- err
	}()
	cancel()
	err = <-errc
	if !errors.Is(err, ErrBusy) {
		t.Fatalf("check whose context ended while the budget was taken: %v, want ErrBusy", err)
	}
	if e := modules.As(err); e == nil || e.Kind.Status() != http.StatusServiceUnavailable || e.PublicCode() != "unavailable" {
		t.Fatalf("ErrBusy maps to %+v, want 503 unavailable", e)
	}
	if _, err := h.hash(ctx, "another password"); !errors.Is(err, ErrBusy) {
		t.Fatalf("hash with an ended context: %v, want ErrBusy", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if ok, err := h.check(context.Background(), "secret password", encoded); !ok || err != nil {
		t.Fatalf("check after the budget was freed: %v %v", ok, err)
	}
}

// TestHasherBudget: hashes run at once only as far as the budget goes, and a stored hash dearer
// than the whole budget still runs (alone) instead of waiting forever.
func TestHasherBudget(t *testing.T) {
	p := HashParams{Memory: 64, Time: 1, Threads: 1}
	h := newHasher(p, 3*64<<10) // three at once
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 30 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := h.run(context.Background(), p.Memory, func() {
				n := running.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				for range 100 {
					runtime.Gosched()
				}
				running.Add(-1)
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if most.Load() > 3 {
		t.Fatalf("%d hashes ran at once within a budget of three", most.Load())
	}

	dear, err := newHasher(HashParams{Memory: 256, Time: 1, Threads: 1}, 1<<20).hash(context.Background(), "secret password")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := newHasher(p, 64<<10).check(context.Background(), "secret password", dear); !ok || err != nil {
		t.Fatalf("a hash dearer than the budget: %v %v", ok, err)
	}
}

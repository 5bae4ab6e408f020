package realtime

import (
	"testing"
	"time"
)

// A bucket is full before its first use, spends one token per event, refills at its rate and
// never holds more than its burst. The clock is given, so the test does not wait.
func TestTokenBucket(t *testing.T) {
	r := eventRate{perSecond: 10, burst: 3}
	var b tokenBucket // untouched: full
	at := func(d time.Duration) int64 { return int64(d) + 1 }
	for i := range 3 {
		if !b.take(r, at(0)) {
			t.Fatalf("event %d of the burst refused", i+1)
		}
	}
	if b.take(r, at(0)) {
		t.Fatal("event past the burst allowed")
	}
	if b.take(r, at(50*time.Millisecond)) {
		t.Fatal("allowed after half a token's refill")
	}
	if !b.take(r, at(100*time.Millisecond)) {
		t.Fatal("refused after a token's refill")
	}
	// An hour idle refills the burst, not more.
	later := at(time.Hour)
	allowed := 0
	for b.take(r, later) {
		allowed++
	}
	if allowed != 3 {
		t.Fatalf("%d events allowed after an idle hour, want the burst (3)", allowed)
	}
	// A clock read out of order (another goroutine's earlier reading) refills nothing.
	if b.take(r, later-int64(time.Minute)) {
		t.Fatal("an earlier reading refilled the bucket")
	}
}

// Each kind of event has a bucket of its own: flooding one does not spend another's.
func TestLimitsAreSeparate(t *testing.T) {
	l := newLimits(Config{EventRate: 1, EventBurst: 1, DocOpRate: 1, DocOpBurst: 1, ChunkRate: 1, ChunkBurst: 1})
	var c client
	now := l.now()
	for kind := range limitCount {
		if !c.buckets[kind].take(l.rates[kind], now) {
			t.Fatalf("limit %d: first event refused", kind)
		}
	}
	if c.buckets[eventLimit].take(l.rates[eventLimit], now) {
		t.Fatal("second client event allowed at once with a burst of 1")
	}
}

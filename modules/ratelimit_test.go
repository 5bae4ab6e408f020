package modules_test

import (
	"errors"
	"testing"
	"time"

	"github.com/pagespace/pagespace/modules"
)

// Buckets: a burst, then a refusal that says how long to wait, per key; nil allows everything.
func TestBuckets(t *testing.T) {
	b := modules.NewBuckets(0.001, 3) // three, then one every 1,000 s
	for i := range 3 {
		if ok, _ := b.Take("agent"); !ok {
			t.Fatalf("take %d refused", i+1)
		}
	}
	ok, wait := b.Take("agent")
	if ok || wait < 900*time.Second || wait > 1000*time.Second {
		t.Fatalf("fourth take: %v, wait %v", ok, wait)
	}
	if ok, _ := b.Take("another"); !ok {
		t.Fatal("another key shares the bucket")
	}
	var none *modules.Buckets
	if ok, wait := none.Take("x"); !ok || wait != 0 || modules.NewBuckets(0, 5) != nil {
		t.Fatal("no limit must allow everything")
	}
}

// Retry keeps the sentinel and adds the wait, in whole milliseconds rounded up.
func TestErrorRetry(t *testing.T) {
	base := modules.E(modules.KindRateLimited, "slow down")
	err := base.Retry(1500 * time.Microsecond)
	e := modules.As(err)
	if !errors.Is(err, base) || e.RetryAfter != 1500*time.Microsecond || e.Details["retryAfterMs"] != int64(2) || e.PublicCode() != "rate_limited" {
		t.Fatalf("retry error %+v", e)
	}
}

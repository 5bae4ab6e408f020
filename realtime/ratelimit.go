package realtime

import "time"

// The per-socket rate limits are token buckets kept by value in the client and guarded by its
// mutex: a socket holds five, which as golang.org/x/time/rate limiters (80 bytes each, allocated
// up front, each with a mutex of its own) were a tenth of an idle socket's heap. An untouched
// bucket is full, so a socket that never sends an event of a kind pays nothing for its limit.

// limitKind names one of a socket's rate limits.
type limitKind int

const (
	eventLimit     limitKind = iota // client events
	presenceLimit                   // cursor and typing, which are coalesced and so allowed faster
	docOpLimit                      // doc_op
	selectionLimit                  // doc_selection
	chunkLimit                      // stream_chunk
	limitCount
)

// eventRate is a rate limit: burst events at once, refilled at perSecond.
type eventRate struct {
	perSecond float64
	burst     float64
}

// limits are the broker's per-socket rate limits, and the origin of the monotonic clock their
// buckets are measured on.
type limits struct {
	epoch time.Time
	rates [limitCount]eventRate
}

func newLimits(cfg Config) limits {
	return limits{epoch: time.Now(), rates: [limitCount]eventRate{
		eventLimit:     {cfg.EventRate, float64(cfg.EventBurst)},
		presenceLimit:  {5 * cfg.EventRate, 5 * float64(cfg.EventBurst)},
		docOpLimit:     {cfg.DocOpRate, float64(cfg.DocOpBurst)},
		selectionLimit: {selectionRate, selectionRate},
		chunkLimit:     {cfg.ChunkRate, float64(cfg.ChunkBurst)},
	}}
}

// now is the time on the buckets' clock: nanoseconds since epoch, never 0.
func (l *limits) now() int64 { return int64(time.Since(l.epoch)) + 1 }

// tokenBucket is one rate limit of one socket; the zero value is a full bucket.
type tokenBucket struct {
	tokens float64 // left at last
	last   int64   // limits.now when tokens was computed; 0: never used
}

// take spends a token at now if one is left under r, and reports whether it did.
func (t *tokenBucket) take(r eventRate, now int64) bool {
	if t.last == 0 {
		t.tokens = r.burst
	} else if elapsed := now - t.last; elapsed > 0 {
		t.tokens = min(r.burst, t.tokens+float64(elapsed)/float64(time.Second)*r.perSecond)
	}
	t.last = max(t.last, now)
	if t.tokens < 1 {
		return false
	}
	t.tokens--
	return true
}

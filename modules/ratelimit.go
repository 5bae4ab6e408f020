package modules

import (
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"
)

// Limiter is a token bucket per key (a client address, an account, a user): perMinute attempts a
// minute sustained, in bursts of a third of that (at least 1). A key idle for ten minutes is
// forgotten. A nil *Limiter allows everything, so "0 turns it off" needs no special case.
// Safe for concurrent use.
type Limiter struct {
	store *middleware.RateLimiterMemoryStore
}

// NewLimiter returns a limiter of perMinute attempts per key, or nil (no limit) for 0 or less.
func NewLimiter(perMinute int) *Limiter {
	if perMinute <= 0 {
		return nil
	}
	return &Limiter{store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
		Rate: rate.Limit(float64(perMinute) / 60), Burst: max(1, perMinute/3), ExpiresIn: 10 * time.Minute,
	})}
}

// Allow takes an attempt from key's bucket and reports whether there was one.
func (l *Limiter) Allow(key string) bool {
	if l == nil {
		return true
	}
	ok, err := l.store.Allow(key)
	return ok && err == nil
}

// PerAddress is middleware that answers ErrRateLimited once the client address (Echo's RealIP,
// which the app sets to the direct peer: forwarded headers are not trusted, so the limit cannot
// be dodged by inventing them) is out of attempts. It is nil for a nil limiter.
func (l *Limiter) PerAddress() echo.MiddlewareFunc {
	if l == nil {
		return nil
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !l.Allow(c.RealIP()) {
				return ErrRateLimited
			}
			return next(c)
		}
	}
}

// Buckets is a token bucket per key with a rate a second and a burst, for limits finer than
// Limiter's per-minute ones (e.g. an agent's chunks). Take says how long to wait when a key is out
// of tokens, for a Retry-After. Keys idle for ten minutes are forgotten. A nil *Buckets allows
// everything. Safe for concurrent use.
type Buckets struct {
	rate  rate.Limit
	burst int

	mu    sync.Mutex
	keys  map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// bucketsIdle is how long a key keeps its bucket without a Take.
const bucketsIdle = 10 * time.Minute

// NewBuckets returns buckets of perSecond tokens a second, burst at most (at least 1), or nil (no
// limit) for a rate of 0 or less.
func NewBuckets(perSecond float64, burst int) *Buckets {
	if perSecond <= 0 {
		return nil
	}
	return &Buckets{rate: rate.Limit(perSecond), burst: max(1, burst), keys: map[string]*bucket{}}
}

// Take takes a token from key's bucket. When there is none it takes nothing and returns false
// with the time until there will be one.
func (b *Buckets) Take(key string) (bool, time.Duration) {
	if b == nil {
		return true, 0
	}
	now := time.Now()
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) > bucketsIdle {
		for k, e := range b.keys {
			if now.Sub(e.used) > bucketsIdle {
				delete(b.keys, k)
			}
		}
		b.swept = now
	}
	e := b.keys[key]
	if e == nil {
		e = &bucket{lim: rate.NewLimiter(b.rate, b.burst)}
		b.keys[key] = e
	}
	e.used = now
	r := e.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

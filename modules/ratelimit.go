package modules

import (
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

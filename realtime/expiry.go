package realtime

import (
	"time"

	"github.com/pagespace/pagespace/modules"
)

// A socket's access token expires: AuthExpiringLead before, the socket gets auth_expiring (so
// that the client refreshes and sends refresh_auth); at expiry, if no refresh came, access_revoked
// and a disconnect. Each socket's next step is a deadline in the broker's expiry queue rather than
// a timer of its own (internal/schedule): an idle socket then costs no timer.

// armExpiry schedules the first step for the socket's current token: auth_expiring.
func (c *client) armExpiry(b *Broker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.released {
		return
	}
	c.warned = false
	b.expiries.Schedule(&c.expiry, c, c.expires.Add(-b.cfg.AuthExpiringLead))
}

// expire runs when a socket's expiry step falls due: it sends auth_expiring, and at expiry
// access_revoked and the disconnect. A short-lived token gets both at once, auth_expiring first.
// A step that falls due early (a refresh moved the expiry meanwhile) is scheduled again.
func (b *Broker) expire(c *client) {
	now := time.Now()
	c.mu.Lock()
	if c.released {
		c.mu.Unlock()
		return
	}
	exp := c.expires
	warn := !c.warned
	if warn && now.Before(exp.Add(-b.cfg.AuthExpiringLead)) {
		b.expiries.Schedule(&c.expiry, c, exp.Add(-b.cfg.AuthExpiringLead))
		c.mu.Unlock()
		return
	}
	c.warned = true
	cut := !now.Before(exp)
	if !cut {
		b.expiries.Schedule(&c.expiry, c, exp)
	}
	c.mu.Unlock()
	if warn {
		_ = c.s.Emit("auth_expiring", map[string]any{"expiresAt": modules.Time(exp)})
	}
	if cut {
		_ = c.s.Emit("access_revoked", map[string]any{"room": modules.UserRoom(c.userID).String(), "reason": "token_expired"})
		c.s.Disconnect(false)
	}
}

package auth_test

import (
	"testing"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

// TestPasswordRateLimitPerAccount: password checks of one account, at login (by email, known or
// not) and at account deletion, share one limit; other accounts are not affected.
func TestPasswordRateLimitPerAccount(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.PasswordRateLimit = 6 }) // bursts of 2
	u, other := env.Signup("Guessed"), env.Signup("Other")
	login := func(email, password string) *apptest.Response {
		return env.Do("POST", "/api/auth/login", "", map[string]string{"email": email, "password": password})
	}
	login(u.Email, "wrong password").Expect(401)
	env.Do("DELETE", "/api/auth/me", u.Token, map[string]string{"password": "wrong password"}).Expect(401)
	for name, r := range map[string]*apptest.Response{
		"login":          login(u.Email, "wrong password"),
		"login, right":   login(u.Email, "correct horse"),
		"delete account": env.Do("DELETE", "/api/auth/me", u.Token, map[string]string{"password": "wrong password"}),
	} {
		if r.Status != 429 || r.ErrorCode() != "rate_limited" {
			t.Errorf("%s over the account's limit: %d %s", name, r.Status, r.Body)
		}
	}
	login(other.Email, "correct horse").Expect(200)
	// An unknown email is limited alike, so the limit does not tell which accounts exist.
	login("nobody@example.com", "wrong password").Expect(401)
	login("Nobody@Example.com", "wrong password").Expect(401)
	if r := login("nobody@example.com", "wrong password"); r.Status != 429 {
		t.Errorf("unknown email over the limit: %d %s", r.Status, r.Body)
	}
}

// TestPasswordRateLimitPerAddress: account deletion, which checks a password, counts against the
// client address's limit like login does, whoever the account.
func TestPasswordRateLimitPerAddress(t *testing.T) {
	cfg := apptest.Config(t)
	env := apptest.StartWith(t, cfg)
	a, b := env.Signup("A"), env.Signup("B") // signups are limited too: sign up first, then limit
	env.App.Shutdown(t.Context())
	cfg.AuthRateLimit = 3 // bursts of 1
	env = apptest.StartWith(t, cfg)
	env.Do("DELETE", "/api/auth/me", a.Token, map[string]string{"password": "wrong password"}).Expect(401)
	r := env.Do("DELETE", "/api/auth/me", b.Token, map[string]string{"password": "wrong password"})
	if r.Status != 429 || r.ErrorCode() != "rate_limited" {
		t.Fatalf("second password check from one address: %d %s", r.Status, r.Body)
	}
	r = env.Do("POST", "/api/auth/login", "", map[string]string{"email": b.Email, "password": "correct horse"})
	if r.Status != 429 {
		t.Fatalf("login after the address's limit: %d %s", r.Status, r.Body)
	}
}

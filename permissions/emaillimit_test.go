package permissions_test

import (
	"context"
	"net"
	"net/http"
	"testing"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

// from returns a copy of env whose requests come from the loopback address ip (127.0.0.0/8 is all
// local on Linux), to tell the per-address limit from the per-user one.
func from(t *testing.T, env *apptest.Env, ip string) *apptest.Env {
	t.Helper()
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	}}}
	t.Cleanup(c.CloseIdleConnections)
	srv := *env.Server
	srv.Client = c
	return &apptest.Env{Server: &srv}
}

// TestAddMemberByEmailRateLimited: whether an email has an account shows in the answer to adding
// it as a member (404 or 201), so those lookups are limited per client address and per acting
// user, as signup is; adding by user id is not.
func TestAddMemberByEmailRateLimited(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.MemberEmailRateLimit = 6 }) // bursts of 2
	owner, other, known, extra := env.Signup("Owner"), env.Signup("Other"), env.Signup("Known"), env.Signup("Extra")
	d1, d2 := env.CreateDrive(owner, "D1"), env.CreateDrive(other, "D2")
	add := func(e *apptest.Env, u apptest.User, drive string, body map[string]any) *apptest.Response {
		body["role"] = "MEMBER"
		return e.Do("POST", "/api/drives/"+drive+"/members", u.Token, body)
	}
	a1, a2, a3 := from(t, env, "127.0.0.1"), from(t, env, "127.0.0.2"), from(t, env, "127.0.0.3")

	add(a1, owner, d1, map[string]any{"email": "nobody@example.com"}).Expect(404)
	add(a1, owner, d1, map[string]any{"email": known.Email}).Expect(201)
	for name, r := range map[string]*apptest.Response{
		"same user, same address":  add(a1, owner, d1, map[string]any{"email": "nobody2@example.com"}),
		"same user, other address": add(a2, owner, d1, map[string]any{"email": "nobody3@example.com"}),
		"other user, same address": add(a1, other, d2, map[string]any{"email": "nobody4@example.com"}),
	} {
		if r.Status != 429 || r.ErrorCode() != "rate_limited" {
			t.Errorf("%s: %d %s, want 429 rate_limited", name, r.Status, r.Body)
		}
	}
	add(a3, other, d2, map[string]any{"email": known.Email}).Expect(201) // neither limit spent
	add(a1, owner, d1, map[string]any{"userId": extra.ID}).Expect(201)   // ids are not guessable
}

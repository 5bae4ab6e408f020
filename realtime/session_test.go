package realtime_test

import (
	"errors"
	"testing"

	"github.com/pagespace/pagespace/internal/sioclient"
)

// TestEndedSessionRefused: once a login session ends (logout, or revocation for refresh-token
// reuse), a socket presenting one of its access tokens is refused as REST refuses it: on connect,
// on connection-state recovery (its rooms do not come back) and on refresh_auth.
func TestEndedSessionRefused(t *testing.T) {
	r := start(t)
	for _, end := range []struct {
		name string
		do   func(refreshToken string)
	}{
		{"logout", func(rt string) {
			r.Do("POST", "/api/auth/logout", "", map[string]string{"refreshToken": rt}).Expect(204)
		}},
		{"refresh token reused", func(rt string) {
			r.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": rt}).Expect(200)
			r.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": rt}).Expect(401)
		}},
	} {
		t.Run(end.name, func(t *testing.T) {
			u, w := r.Signup("Ended"), r.Signup("Writer")
			d := r.CreateDrive(u, "D")
			r.AddMember(u, d, w, "MEMBER")
			ch := r.CreatePage(u, d, "CHANNEL", "chat", "")
			// Another login of the same user: its session stays.
			var other struct{ AccessToken string }
			r.Do("POST", "/api/auth/login", "", map[string]string{"email": u.Email, "password": "correct horse"}).Expect(200).JSON(&other)

			// A socket of the session that will end, in the channel, dropped without a goodbye so
			// that it could recover.
			s := r.dial(u)
			s.join(ch)
			r.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": "before"}).Expect(201)
			first := s.await("new_message")
			s.Close()
			<-s.Done

			end.do(u.RefreshToken)
			r.Do("POST", "/api/pages/"+ch+"/messages", w.Token, map[string]any{"content": "missed"}).Expect(201)
			r.Do("GET", "/api/auth/me", u.Token, nil).Expect(401) // REST already refuses it

			var ce *sioclient.ConnectError
			c, err := r.Dial(ctxT(t), map[string]any{"token": u.Token}, nil)
			if err == nil {
				c.Close()
			}
			if !errors.As(err, &ce) || ce.Code() != "invalid_token" {
				t.Fatalf("connect with an ended session's token: %v", err)
			}
			c, err = r.Dial(ctxT(t), map[string]any{"token": u.Token, "pid": s.PID, "offset": first.Offset}, nil)
			if err == nil {
				c.Close()
				t.Fatalf("recovery with an ended session's token connected (recovered: %v)", c.PID == s.PID)
			}
			if !errors.As(err, &ce) || ce.Code() != "invalid_token" {
				t.Fatalf("recovery with an ended session's token: %v", err)
			}

			u2 := u
			u2.Token = other.AccessToken
			live := r.dial(u2)
			ack := live.call("refresh_auth", map[string]any{"token": u.Token})
			if ack["ok"] != false {
				t.Fatalf("refresh_auth with an ended session's token: %v", ack)
			}
			if e, _ := ack["error"].(map[string]any); e["code"] != "invalid_token" {
				t.Fatalf("refresh_auth refusal: %v", ack)
			}
			// The other session's token is still accepted.
			if ack := live.call("refresh_auth", map[string]any{"token": other.AccessToken}); ack["ok"] != true {
				t.Fatalf("refresh_auth with a live session's token: %v", ack)
			}
		})
	}
}

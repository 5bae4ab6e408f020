package auth_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

func TestSignupLoginMe(t *testing.T) {
	env := apptest.Start(t)
	r := env.Do("POST", "/api/auth/signup", "", map[string]string{"email": "Ada@Example.com", "password": "longenough", "name": "Ada"}).Expect(201)
	var s struct {
		User struct {
			ID, Email, Name, CreatedAt string
		}
		AccessToken, RefreshToken string
		ExpiresIn                 int
	}
	r.JSON(&s)
	if s.User.Email != "ada@example.com" || s.User.Name != "Ada" || s.AccessToken == "" || s.RefreshToken == "" || s.ExpiresIn != 900 {
		t.Fatalf("signup body: %s", r.Body)
	}
	if !strings.HasSuffix(s.User.CreatedAt, "Z") || len(s.User.CreatedAt) != len("2006-01-02T15:04:05.000Z") {
		t.Fatalf("createdAt %q is not RFC 3339 UTC with milliseconds", s.User.CreatedAt)
	}
	me := env.Do("GET", "/api/auth/me", s.AccessToken, nil).Expect(200).Map()
	if me["id"] != s.User.ID || me["passwordHash"] != nil {
		t.Fatalf("me: %v", me)
	}
	env.Do("POST", "/api/auth/signup", "", map[string]string{"email": "ada@example.com", "password": "longenough", "name": "Ada 2"}).Expect(409)
	env.Do("POST", "/api/auth/login", "", map[string]string{"email": "ADA@example.com", "password": "longenough"}).Expect(200)
	bad := env.Do("POST", "/api/auth/login", "", map[string]string{"email": "ada@example.com", "password": "wrongwrong"}).Expect(401)
	unknown := env.Do("POST", "/api/auth/login", "", map[string]string{"email": "nobody@example.com", "password": "wrongwrong"}).Expect(401)
	if string(bad.Body) != string(unknown.Body) {
		t.Fatalf("unknown email and bad password must answer alike: %s vs %s", bad.Body, unknown.Body)
	}
}

func TestSignupValidation(t *testing.T) {
	env := apptest.Start(t)
	cases := []struct {
		name string
		body any
		want int
	}{
		{"no body", nil, 400},
		{"malformed", `{"email":`, 400},
		{"not an object", `[1,2]`, 400},
		{"wrong type", `{"email":1,"password":"longenough","name":"x"}`, 400},
		{"unknown field", `{"email":"a@b.co","password":"longenough","name":"x","admin":true}`, 400},
		{"trailing data", `{"email":"a@b.co","password":"longenough","name":"x"} {}`, 400},
		{"bad email", map[string]string{"email": "not-an-email", "password": "longenough", "name": "x"}, 400},
		{"short password", map[string]string{"email": "a@b.co", "password": "short", "name": "x"}, 400},
		{"missing name", map[string]string{"email": "a@b.co", "password": "longenough"}, 400},
		{"long name", map[string]string{"email": "a@b.co", "password": "longenough", "name": strings.Repeat("n", 101)}, 400},
		{"control chars", map[string]string{"email": "a@b.co", "password": "longenough", "name": "a\x00b"}, 400},
		{"too large", `{"email":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do("POST", "/api/auth/signup", "", c.body)
			r.Expect(c.want)
			if r.ErrorCode() == "" {
				t.Fatalf("no error code in %s", r.Body)
			}
		})
	}
	r := env.Do("POST", "/api/auth/signup", "", `{"email":"a@b.co","password":1,"name":"x"}`).Expect(400)
	if !strings.Contains(string(r.Body), "password") {
		t.Fatalf("wrong-type error should name the field: %s", r.Body)
	}
}

func TestTokens(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Tess")
	for name, tok := range map[string]string{
		"garbage":     "not.a.jwt",
		"none alg":    jwtNone(t, u.ID),
		"wrong key":   signed(t, jwt.SigningMethodHS256, "another-secret-another-secret-0123456", u.ID, time.Hour),
		"other alg":   signed(t, jwt.SigningMethodHS512, env.Config.JWTSecret, u.ID, time.Hour),
		"expired":     signed(t, jwt.SigningMethodHS256, env.Config.JWTSecret, u.ID, -time.Hour),
		"empty token": "",
	} {
		r := env.Do("GET", "/api/auth/me", tok, nil)
		if r.Status != 401 {
			t.Errorf("%s: status %d, want 401 (%s)", name, r.Status, r.Body)
		}
	}
	r := env.Do("GET", "/api/auth/me", signed(t, jwt.SigningMethodHS256, env.Config.JWTSecret, u.ID, -time.Hour), nil)
	if r.ErrorCode() != "token_expired" {
		t.Fatalf("expired token code %q", r.ErrorCode())
	}
	env.Do("GET", "/api/auth/me", signed(t, jwt.SigningMethodHS256, env.Config.JWTSecret, u.ID, time.Hour), nil).Expect(200)
}

func signed(t *testing.T, m jwt.SigningMethod, key, sub string, ttl time.Duration) string {
	now := time.Now()
	iat := now
	if ttl < 0 {
		iat = now.Add(2 * ttl)
	}
	s, err := jwt.NewWithClaims(m, jwt.MapClaims{"sub": sub, "iat": iat.Unix(), "exp": now.Add(ttl).Unix(), "jti": "x"}).SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func jwtNone(t *testing.T, sub string) string {
	s, err := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": sub, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRefreshRotationAndReuse(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Rita")
	var s1 struct{ AccessToken, RefreshToken string }
	env.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(200).JSON(&s1)
	if s1.RefreshToken == u.RefreshToken || s1.AccessToken == "" {
		t.Fatal("refresh must rotate the token")
	}
	// Reusing the spent token revokes the family: the new token stops working too.
	r := env.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(401)
	if r.ErrorCode() != "token_reused" {
		t.Fatalf("reuse code %q", r.ErrorCode())
	}
	env.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": s1.RefreshToken}).Expect(401)
	env.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": "bogus"}).Expect(401)
	env.Do("POST", "/api/auth/refresh", "", map[string]string{}).Expect(400)

	// Another login is another family, unaffected.
	var s2 struct{ RefreshToken string }
	env.Do("POST", "/api/auth/login", "", map[string]string{"email": u.Email, "password": "correct horse"}).Expect(200).JSON(&s2)
	env.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": s2.RefreshToken}).Expect(200)
}

func TestConcurrentRefreshOneWins(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Conc")
	const n = 8
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = env.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": u.RefreshToken}).Status
		}()
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		if c == http.StatusOK {
			ok++
		} else if c != http.StatusUnauthorized {
			t.Fatalf("unexpected status %d", c)
		}
	}
	if ok > 1 {
		t.Fatalf("%d concurrent refreshes of one token succeeded", ok)
	}
}

func TestLogout(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Leo")
	var other struct{ AccessToken string }
	env.Do("POST", "/api/auth/login", "", map[string]string{"email": u.Email, "password": "correct horse"}).Expect(200).JSON(&other)
	env.Do("POST", "/api/auth/logout", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(204)
	env.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(401)
	env.Do("POST", "/api/auth/logout", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(204)
	// The session's access token stops working at once; another session is unaffected.
	env.Do("GET", "/api/auth/me", u.Token, nil).Expect(401)
	env.Do("GET", "/api/auth/me", other.AccessToken, nil).Expect(200)
	// The logout is an event for the user's own sockets.
	var list struct {
		Items []struct {
			Type    string
			Payload map[string]any
		}
	}
	env.Do("GET", "/api/events", other.AccessToken, nil).Expect(200).JSON(&list)
	if len(list.Items) != 1 || list.Items[0].Type != "session_ended" || list.Items[0].Payload["userId"] != u.ID {
		t.Fatalf("events after logout: %+v", list.Items)
	}
}

func TestJWTSecretGenerated(t *testing.T) {
	cfg := apptest.Config(t)
	cfg.JWTSecret = ""
	env := apptest.StartWith(t, cfg)
	u := env.Signup("Gen")
	env.Do("GET", "/api/auth/me", u.Token, nil).Expect(200)
	fi, err := os.Stat(filepath.Join(cfg.DataDir, "jwt_secret"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("jwt_secret mode %v, want 0600", fi.Mode().Perm())
	}
}

func TestAuthRateLimit(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.AuthRateLimit = 3 })
	codes := []int{}
	for range 3 {
		codes = append(codes, env.Do("POST", "/api/auth/login", "", map[string]string{"email": "x@example.com", "password": "whatever1"}).Status)
	}
	r := env.Do("POST", "/api/auth/login", "", map[string]string{"email": "x@example.com", "password": "whatever1"})
	if r.Status != 429 || r.ErrorCode() != "rate_limited" {
		t.Fatalf("after %v the next login got %d %s", codes, r.Status, r.Body)
	}
}

func TestDeleteAccount(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Del")
	env.Do("DELETE", "/api/auth/me", u.Token, map[string]string{"password": "wrong-password"}).Expect(401)
	env.Do("DELETE", "/api/auth/me", u.Token, map[string]string{"password": "correct horse"}).Expect(204)
	// The old access token dies with the account (no write may slip through with it).
	env.Do("GET", "/api/auth/me", u.Token, nil).Expect(401)
	env.Do("POST", "/api/drives", u.Token, map[string]string{"name": "ghost"}).Expect(401)
	env.Do("POST", "/api/auth/login", "", map[string]string{"email": u.Email, "password": "correct horse"}).Expect(401)
	env.Do("POST", "/api/auth/refresh", "", map[string]string{"refreshToken": u.RefreshToken}).Expect(401)
}

// An owner of drives may not delete the account (the drives are permissions' to count); once
// they are gone, it may, and the drives it was a member of hear of it.
func TestDeleteAccountOwningDrives(t *testing.T) {
	env := apptest.Start(t)
	owner, other := env.Signup("Owner"), env.Signup("Other")
	drive := env.CreateDrive(owner, "mine")
	shared := env.CreateDrive(other, "theirs")
	env.AddMember(other, shared, owner, "MEMBER")
	if code := env.Do("DELETE", "/api/auth/me", owner.Token, map[string]string{"password": "correct horse"}).Expect(409).ErrorCode(); code != "conflict" {
		t.Fatalf("deleting an owner's account: %s", code)
	}
	env.Do("DELETE", "/api/drives/"+drive, owner.Token, nil).Expect(204)
	env.Do("DELETE", "/api/auth/me", owner.Token, map[string]string{"password": "correct horse"}).Expect(204)
	evs := env.EventsAfter(other, "0", "user_deleted")
	if len(evs) != 1 {
		t.Fatalf("%d user_deleted events in the shared drive's feed", len(evs))
	}
	if ids, _ := evs[0].Payload["driveIds"].([]any); len(ids) != 1 || ids[0] != shared {
		t.Fatalf("user_deleted names the drives %v, want [%s]", evs[0].Payload["driveIds"], shared)
	}
}

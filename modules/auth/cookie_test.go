package auth_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

// browserPost sends a POST as a browser page would: Origin, the cookie-mode header and the
// cookies given. It returns the response with its body read.
func browserPost(t *testing.T, env *apptest.Env, path, origin, body string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest("POST", env.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	req.Header.Set("X-Auth-Mode", "cookie")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func refreshCookie(t *testing.T, resp *http.Response) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name == "ps_refresh" {
			return c
		}
	}
	t.Fatalf("no ps_refresh cookie in %v", resp.Header.Values("Set-Cookie"))
	return nil
}

func TestCookieModeSession(t *testing.T) {
	env := apptest.Start(t)
	origin := env.URL
	signup := `{"email":"cookie@example.com","password":"longenough","name":"Cookie"}`
	resp, body := browserPost(t, env, "/api/auth/signup", origin, signup)
	if resp.StatusCode != 201 {
		t.Fatalf("signup: %d %s", resp.StatusCode, body)
	}
	ck := refreshCookie(t, resp)
	if !ck.HttpOnly || ck.Secure || ck.SameSite != http.SameSiteStrictMode || ck.Path != "/api/auth" || ck.MaxAge != 720*3600 || ck.Value == "" {
		t.Fatalf("cookie flags: %+v (raw %q)", ck, resp.Header.Get("Set-Cookie"))
	}
	if strings.Contains(body, "refreshToken") || !strings.Contains(body, `"accessToken"`) {
		t.Fatalf("cookie mode body must carry the access token only: %s", body)
	}
	// An https page (a TLS proxy in front) gets a Secure cookie.
	resp, body = browserPost(t, env, "/api/auth/login", "https://"+strings.TrimPrefix(env.URL, "http://"), `{"email":"cookie@example.com","password":"longenough"}`)
	if resp.StatusCode != 200 || !refreshCookie(t, resp).Secure {
		t.Fatalf("login from https: %d %s %v", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}

	// Refresh with the cookie alone (no body) rotates it.
	resp, body = browserPost(t, env, "/api/auth/refresh", origin, "", ck)
	if resp.StatusCode != 200 || strings.Contains(body, "refreshToken") {
		t.Fatalf("refresh by cookie: %d %s", resp.StatusCode, body)
	}
	next := refreshCookie(t, resp)
	if next.Value == ck.Value || !next.HttpOnly {
		t.Fatalf("refresh must rotate the cookie: %+v", next)
	}
	var s struct{ AccessToken string }
	(&apptest.Response{T: t, Body: []byte(body)}).JSON(&s)
	env.Do("GET", "/api/auth/me", s.AccessToken, nil).Expect(200)

	// A same-origin GET-style request without Origin counts by Sec-Fetch-Site; with neither, not.
	req, _ := http.NewRequest("POST", env.URL+"/api/auth/refresh", nil)
	req.AddCookie(next)
	resp2, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 403 {
		t.Fatalf("cookie refresh of unknown origin: %d, want 403", resp2.StatusCode)
	}

	// Cross-site: refused with 403 cross_origin, the cookie untouched and still good.
	for _, o := range []string{"https://evil.example", "null"} {
		resp, body = browserPost(t, env, "/api/auth/refresh", o, "", next)
		if resp.StatusCode != 403 || !strings.Contains(body, `"cross_origin"`) || len(resp.Cookies()) != 0 {
			t.Fatalf("cross-origin refresh from %s: %d %s", o, resp.StatusCode, body)
		}
		resp, body = browserPost(t, env, "/api/auth/logout", o, "", next)
		if resp.StatusCode != 403 {
			t.Fatalf("cross-origin logout from %s: %d %s", o, resp.StatusCode, body)
		}
		resp, body = browserPost(t, env, "/api/auth/login", o, `{"email":"cookie@example.com","password":"longenough"}`)
		if resp.StatusCode != 403 {
			t.Fatalf("cross-origin cookie-mode login from %s: %d %s", o, resp.StatusCode, body)
		}
	}

	// A cookie that cannot be a refresh token is deleted too.
	resp, _ = browserPost(t, env, "/api/auth/refresh", origin, "", &http.Cookie{Name: "ps_refresh", Value: strings.Repeat("x", 300)})
	if resp.StatusCode != 400 || refreshCookie(t, resp).MaxAge >= 0 {
		t.Fatalf("refresh with a malformed cookie: %d %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}

	// Logout by cookie revokes the session and deletes the cookie.
	resp, body = browserPost(t, env, "/api/auth/logout", origin, "", next)
	if resp.StatusCode != 204 {
		t.Fatalf("logout by cookie: %d %s", resp.StatusCode, body)
	}
	if gone := refreshCookie(t, resp); gone.MaxAge >= 0 || gone.Value != "" || gone.Path != "/api/auth" {
		t.Fatalf("logout must delete the cookie: %+v", gone)
	}
	env.Do("GET", "/api/auth/me", s.AccessToken, nil).Expect(401)
	// The revoked cookie no longer refreshes, and the answer deletes it.
	resp, body = browserPost(t, env, "/api/auth/refresh", origin, "", next)
	if resp.StatusCode != 401 || refreshCookie(t, resp).MaxAge >= 0 {
		t.Fatalf("refresh after logout: %d %s %v", resp.StatusCode, body, resp.Header.Values("Set-Cookie"))
	}
}

func TestCookieModeAllowedOrigin(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.AllowedOrigins = []string{"https://ui.example"} })
	resp, body := browserPost(t, env, "/api/auth/signup", "https://ui.example", `{"email":"ui@example.com","password":"longenough","name":"UI"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("signup from an allowed origin: %d %s", resp.StatusCode, body)
	}
	ck := refreshCookie(t, resp)
	resp, body = browserPost(t, env, "/api/auth/refresh", "https://ui.example", "", ck)
	if resp.StatusCode != 200 {
		t.Fatalf("refresh from an allowed origin: %d %s", resp.StatusCode, body)
	}
	resp, _ = browserPost(t, env, "/api/auth/refresh", "https://other.example", "", refreshCookie(t, resp))
	if resp.StatusCode != 403 {
		t.Fatalf("refresh from another origin: %d", resp.StatusCode)
	}
}

// Programs keep the JSON flow: no cookie is set, the body carries both tokens, a body token wins
// over nothing, and an empty refresh is still 400.
func TestProgramsKeepJSONFlow(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Prog")
	for _, path := range []string{"/api/auth/login", "/api/auth/refresh"} {
		var body any = map[string]string{"email": u.Email, "password": "correct horse"}
		if path == "/api/auth/refresh" {
			body = map[string]string{"refreshToken": u.RefreshToken}
		}
		r := env.Do("POST", path, "", body).Expect(200)
		if r.Header.Get("Set-Cookie") != "" {
			t.Fatalf("%s set a cookie for a program: %v", path, r.Header.Values("Set-Cookie"))
		}
		m := r.Map()
		if m["refreshToken"] == "" || m["refreshToken"] == nil || m["accessToken"] == nil {
			t.Fatalf("%s body: %s", path, r.Body)
		}
	}
	if r := env.Do("POST", "/api/auth/refresh", "", nil).Expect(400); r.ErrorCode() != "invalid_request" {
		t.Fatalf("empty refresh: %s", r.Body)
	}
	if r := env.Do("POST", "/api/auth/logout", "", nil).Expect(400); r.ErrorCode() != "invalid_request" {
		t.Fatalf("empty logout: %s", r.Body)
	}
}

// Deleting the account deletes the browser's refresh cookie with it.
func TestAccountDeletionClearsCookie(t *testing.T) {
	env := apptest.Start(t)
	resp, body := browserPost(t, env, "/api/auth/signup", env.URL, `{"email":"gone@example.com","password":"longenough","name":"Gone"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("signup: %d %s", resp.StatusCode, body)
	}
	var s struct{ AccessToken string }
	(&apptest.Response{T: t, Body: []byte(body)}).JSON(&s)
	req, _ := http.NewRequest("DELETE", env.URL+"/api/auth/me", strings.NewReader(`{"password":"longenough"}`))
	req.Header.Set("Authorization", "Bearer "+s.AccessToken)
	req.Header.Set("Content-Type", "application/json")
	req.AddCookie(refreshCookie(t, resp))
	del, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	del.Body.Close()
	if del.StatusCode != 204 || refreshCookie(t, del).MaxAge >= 0 {
		t.Fatalf("delete account: %d %v", del.StatusCode, del.Header.Values("Set-Cookie"))
	}
}

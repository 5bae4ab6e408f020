package app_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
)

func TestHealthAndErrors(t *testing.T) {
	env := apptest.Start(t)
	env.Do("GET", "/healthz", "", nil).Expect(200)
	env.Do("GET", "/readyz", "", nil).Expect(200)
	r := env.Do("GET", "/api/auth/me", "", nil).Expect(401)
	if r.ErrorCode() != "unauthorized" {
		t.Fatalf("code %q", r.ErrorCode())
	}
	r = env.Do("GET", "/nope", "", nil).Expect(404)
	if r.ErrorCode() != "not_found" || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("unknown route: %s %v", r.Body, r.Header)
	}
	r = env.Do("DELETE", "/api/auth/login", "", nil).Expect(405)
	if r.ErrorCode() != "method_not_allowed" {
		t.Fatalf("wrong method: %s", r.Body)
	}
	if r.Header.Get("X-Request-Id") == "" {
		t.Fatal("no request id header")
	}
	r = env.Do("POST", "/api/auth/login", "", strings.Repeat("x", 2<<20)).Expect(413)
	if r.ErrorCode() != "payload_too_large" {
		t.Fatalf("too large: %s", r.Body)
	}
	r = env.Do("POST", "/api/auth/login", "", nil)
	r.Expect(400)
}

func TestContentTypeMustBeJSON(t *testing.T) {
	env := apptest.Start(t)
	req, _ := http.NewRequest("POST", env.URL+"/api/auth/login", strings.NewReader(`{"email":"a@b.co","password":"x"}`))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestCORS(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.AllowedOrigins = []string{"https://app.example.com"} })
	req, _ := http.NewRequest("OPTIONS", env.URL+"/api/auth/login", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "POST")
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://app.example.com" {
		t.Fatalf("allowed origin got %q", got)
	}
	req.Header.Set("Origin", "https://evil.example.com")
	resp, err = env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Fatalf("foreign origin allowed: %q", got)
	}
}

func TestLoad(t *testing.T) {
	env := map[string]string{"ADDR": ":9999", "ACCESS_TOKEN_TTL": "5m", "ALLOWED_ORIGINS": "https://a.example, https://b.example/", "LOG_LEVEL": "debug"}
	cfg, cmd, err := app.Load([]string{"--addr=:7777"}, func(k string) string { return env[k] })
	if err != nil || cmd != app.CmdServe {
		t.Fatalf("load: %v %v", cmd, err)
	}
	if cfg.Addr != ":7777" || cfg.AccessTokenTTL != 5*time.Minute || len(cfg.AllowedOrigins) != 2 || cfg.AllowedOrigins[1] != "https://b.example" {
		t.Fatalf("config %+v", cfg)
	}
	for _, bad := range []map[string]string{
		{"DATABASE_URL": "mysql://x"}, {"ACCESS_TOKEN_TTL": "soon"}, {"JWT_SECRET": "short"}, {"LOG_LEVEL": "loud"}, {"BODY_LIMIT": "-1"},
	} {
		if _, _, err := app.Load(nil, func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	timeouts := map[string]string{"READ_HEADER_TIMEOUT": "3s", "READ_BODY_TIMEOUT": "4s", "IDLE_TIMEOUT": "5s", "WS_MAX_UNAUTHENTICATED_PER_ADDRESS": "7"}
	cfg, _, err = app.Load(nil, func(k string) string { return timeouts[k] })
	if err != nil || cfg.ReadHeaderTimeout != 3*time.Second || cfg.ReadBodyTimeout != 4*time.Second || cfg.IdleTimeout != 5*time.Second || cfg.Realtime.MaxUnauthenticatedPerAddr != 7 {
		t.Fatalf("timeouts: %+v %v", cfg, err)
	}
	if _, cmd, _ := app.Load([]string{"migrate"}, func(string) string { return "" }); cmd != app.CmdMigrate {
		t.Fatalf("migrate command: %v", cmd)
	}
	if _, cmd, _ := app.Load([]string{"--help"}, func(string) string { return "" }); cmd != app.CmdHelp {
		t.Fatalf("help: %v", cmd)
	}
	if _, _, err := app.Load([]string{"frobnicate"}, func(string) string { return "" }); err == nil {
		t.Fatal("unknown command accepted")
	}
	var b bytes.Buffer
	app.Usage(&b)
	for _, want := range []string{"migrate", "DATABASE_URL", "ALLOWED_ORIGINS", "JWT_SECRET"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("usage lacks %s", want)
		}
	}
}

func TestMigrateIsIdempotent(t *testing.T) {
	cfg := apptest.Config(t)
	first, err := app.Migrate(context.Background(), cfg)
	if err != nil || len(first) == 0 {
		t.Fatalf("first migrate: %v %v", first, err)
	}
	again, err := app.Migrate(context.Background(), cfg)
	if err != nil || len(again) != 0 {
		t.Fatalf("second migrate applied %v (%v)", again, err)
	}
	apptest.StartWith(t, cfg).Do("GET", "/readyz", "", nil).Expect(200)
}

// Every UI route answers with the app shell, which loads its module from /static/.
func TestAppShell(t *testing.T) {
	env := apptest.Start(t)
	for _, path := range []string{"/", "/login", "/signup", "/account", "/d/x", "/d/x/trash", "/d/x/members", "/d/x/agents", "/p/y"} {
		r := env.Do("GET", path, "", nil).Expect(200)
		if !strings.Contains(string(r.Body), `<script type="module" src="/static/js/app.js">`) || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %s", path, r.Body)
		}
	}
	env.Do("GET", "/static/js/app.js", "", nil).Expect(200)
	env.Do("GET", "/d/x/y", "", nil).Expect(404)
}

func TestBogusIDsAreNotFound(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Ids")
	for _, path := range []string{"/api/pages/%00", "/api/pages/%ff%fe", "/api/drives/" + strings.Repeat("x", 300), "/api/pages/a%0Ab/messages"} {
		r := env.Do("GET", path, u.Token, nil)
		if r.Status != 404 || r.ErrorCode() != "not_found" {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
}

func TestBadQueryValuesAreRefused(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	ch := w.Page("CHANNEL", "chat")
	tl := w.Page("TASK_LIST", "todo")
	for _, path := range []string{
		"/api/pages/" + ch + "/messages?parentId=%00",
		"/api/pages/" + ch + "/messages?cursor=%ff",
		"/api/pages/" + tl + "/tasks?assigneeId=a%00b",
		"/api/events?after=%00",
	} {
		r := env.Do("GET", path, w.Owner.Token, nil)
		if r.Status != 400 {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
}

func TestEventsCursorBounds(t *testing.T) {
	env := apptest.Start(t)
	u := env.Signup("Ev")
	env.CreateDrive(u, "d")
	var list struct{ LatestEventID string }
	env.Do("GET", "/api/events", u.Token, nil).Expect(200).JSON(&list)
	if list.LatestEventID == "" || list.LatestEventID == "0" {
		t.Fatalf("latestEventId %q", list.LatestEventID)
	}
	env.Do("GET", "/api/events?after=999999", u.Token, nil).Expect(400)
}

func TestUserDeletedReachesDriveMembersFeed(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	env.Do("DELETE", "/api/auth/me", w.Member.Token, map[string]string{"password": "correct horse"}).Expect(204)
	if evs := env.EventsAfter(w.Owner, "0", "user_deleted"); len(evs) != 1 {
		t.Fatalf("owner's feed has %d user_deleted events", len(evs))
	}
	if evs := env.EventsAfter(w.Outsider, "0", "user_deleted"); len(evs) != 0 {
		t.Fatalf("an outsider sees %d user_deleted events", len(evs))
	}
}

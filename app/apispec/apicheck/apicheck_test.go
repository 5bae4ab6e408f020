package apicheck_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app/apispec/apicheck"
)

var jsonHeader = http.Header{"Content-Type": {"application/json; charset=UTF-8"}}

const drive = `{"id":"d1","name":"Team","ownerId":"u1","role":"OWNER","createdAt":"2025-01-31T08:36:49.709Z","updatedAt":"2025-01-31T08:36:49.709Z"}`

// What the HTTP check accepts and what it refuses, each refusal naming the problem.
func TestHTTPCheck(t *testing.T) {
	h, err := apicheck.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	errBody := `{"error":{"code":"not_found","message":"drive not found"}}`
	for _, c := range []struct {
		name, method, path string
		status             int
		header             http.Header
		body, wantErr      string // wantErr "" means accepted
	}{
		{"a documented answer", "GET", "/api/drives/d1", 200, jsonHeader, drive, ""},
		{"a documented error", "GET", "/api/drives/d1", 404, jsonHeader, errBody, ""},
		{"a literal segment wins over a parameter", "GET", "/api/auth/me", 404, jsonHeader, errBody, ""},
		{"an unknown route answered 404", "GET", "/api/nothing/here", 404, jsonHeader, errBody, ""},
		{"a CORS preflight", "OPTIONS", "/api/drives", 204, http.Header{}, "", ""},
		{"the socket endpoint", "GET", "/socket.io/", 200, http.Header{}, "anything", ""},
		{"a no-content answer", "DELETE", "/api/drives/d1", 204, http.Header{}, "", ""},
		{"an undocumented status", "GET", "/api/drives/d1", 409, jsonHeader, `{"error":{"code":"conflict","message":"x"}}`, "does not list"},
		{"a missing field", "GET", "/api/drives/d1", 200, jsonHeader, strings.Replace(drive, `"name":"Team",`, "", 1), "name"},
		{"a field of the wrong type", "GET", "/api/drives/d1", 200, jsonHeader, strings.Replace(drive, `"Team"`, `7`, 1), "want string"},
		{"an undescribed field", "GET", "/api/drives/d1", 200, jsonHeader, strings.Replace(drive, `{`, `{"extra":1,`, 1), "extra"},
		{"an unknown error code", "GET", "/api/drives/d1", 404, jsonHeader, `{"error":{"code":"gone","message":"x"}}`, "code"},
		{"a body where none is described", "DELETE", "/api/drives/d1", 204, jsonHeader, "{}", "no body"},
		{"the wrong media type", "GET", "/api/drives/d1", 200, http.Header{"Content-Type": {"text/plain"}}, drive, "Content-Type"},
		{"an undescribed route", "GET", "/api/nothing/here", 200, jsonHeader, "{}", "not in openapi.json"},
	} {
		err := h.Check(c.method, c.path, c.status, c.header, []byte(c.body))
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.wantErr != "" && err == nil:
			t.Errorf("%s: accepted", c.name)
		case c.wantErr != "" && !strings.Contains(err.Error(), c.wantErr):
			t.Errorf("%s: error %q does not mention %q", c.name, err, c.wantErr)
		}
	}
}

// What the socket check accepts and what it refuses.
func TestSocketCheck(t *testing.T) {
	s, err := apicheck.AsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	args := func(v ...string) []json.RawMessage {
		out := make([]json.RawMessage, len(v))
		for i, a := range v {
			out[i] = json.RawMessage(a)
		}
		return out
	}
	viewers := `{"pageId":"p1","viewers":[{"userId":"u1","name":"Ada"}]}`
	session := `{"eventId":"7","type":"session_ended","at":"2025-01-31T08:36:49.709Z","actorId":null,"userId":"u1","sessionId":"s1","reason":"logout"}`
	if err := s.Event("viewers_updated", args(viewers), ""); err != nil {
		t.Errorf("viewers_updated: %v", err)
	}
	if err := s.Event("session_ended", args(session), "7"); err != nil {
		t.Errorf("session_ended: %v", err)
	}
	if err := s.Ack("join_page", args(`{"ok":true,"pageId":"p1","viewers":[],"agentStatuses":[]}`)); err != nil {
		t.Errorf("join_page ack: %v", err)
	}
	if err := s.Ack("join_page", args(`{"ok":false,"error":{"code":"not_found","message":"page not found"}}`)); err != nil {
		t.Errorf("join_page refusal: %v", err)
	}
	for name, err := range map[string]error{
		"an undescribed event":        s.Event("page_renamed", args(`{}`), ""),
		"a domain event's offset":     s.Event("session_ended", args(session), "8"),
		"an offset on a socket event": s.Event("viewers_updated", args(viewers), "7"),
		"a payload field missing":     s.Event("viewers_updated", args(`{"pageId":"p1"}`), ""),
		"two arguments":               s.Event("viewers_updated", args(viewers, viewers), ""),
		"an ack of the wrong shape":   s.Ack("join_page", args(`{"ok":true,"pageId":"p1"}`)),
		"an ack with an unknown code": s.Ack("leave_page", args(`{"ok":false,"error":{"code":"nope","message":"x"}}`)),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

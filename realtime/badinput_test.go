package realtime_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	"github.com/pagespace/pagespace/app"
)

// TestBadEventArguments sends every client event arguments that no REST body may hold either
// (NUL, unpaired surrogates, overlong ids, keys in the wrong case, unknown or repeated keys):
// each gets an invalid_request ack, never internal (PostgreSQL refuses NUL in text) and never a
// success. (Invalid UTF-8 cannot get this far: the engine refuses a text packet that is not
// valid UTF-8 and closes the transport.)
func TestBadEventArguments(t *testing.T) {
	r := start(t, func(c *app.Config) { c.Realtime.EventRate, c.Realtime.EventBurst = 1000, 1000 })
	u := r.Signup("Bad")
	d := r.CreateDrive(u, "D")
	p := r.CreatePage(u, d, "DOCUMENT", "doc", "")
	s := r.dial(u)

	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	ids := func(key, id string) []json.RawMessage {
		return []json.RawMessage{
			raw(`"a\u0000b"`),
			raw(`"a\ud800b"`),
			raw(quote(strings.Repeat("x", 5000))),
			raw(`{"` + key + `":"a\u0000b"}`),
			raw(`{"` + key + `":"a\udc00b"}`),
			raw(`{"` + strings.ToUpper(key[:1]) + key[1:] + `":` + quote(id) + `}`),
			raw(`{"` + strings.ToUpper(key) + `":` + quote(id) + `}`),
			raw(`{"` + key + `":` + quote(id) + `,"extra":1}`),
			raw(`{"` + key + `":` + quote(id) + `,"` + key + `":` + quote(id) + `}`),
		}
	}
	cases := map[string][]json.RawMessage{
		"join_page":    ids("pageId", p),
		"leave_page":   ids("pageId", p),
		"join_drive":   ids("driveId", d),
		"leave_drive":  ids("driveId", d),
		"typing_start": ids("pageId", p),
		"typing_stop":  ids("pageId", p),
		"cursor_move": {
			raw(`{"pageId":"a\u0000b","position":1}`),
			raw(`{"pageId":` + quote(p) + `,"position":"a\u0000b"}`),
			raw(`{"pageId":` + quote(p) + `,"position":{"x":"a\ud800"}}`),
			raw(`{"PageId":` + quote(p) + `,"position":1}`),
			raw(`{"pageId":` + quote(p) + `,"Position":1}`),
			raw(`{"pageId":` + quote(p) + `,"position":1,"extra":1}`),
		},
		"doc_open": ids("pageId", p),
		"doc_ops": {
			raw(`{"pageId":"a\u0000b","since":0}`),
			raw(`{"PageId":` + quote(p) + `,"since":0}`),
			raw(`{"pageId":` + quote(p) + `,"since":0,"extra":1}`),
			raw(`{"pageId":` + quote(p) + `,"since":1.5}`),
			raw(`{"pageId":` + quote(p) + `,"since":"0"}`),
			raw(`{"pageId":` + quote(p) + `,"since":-1}`),
			raw(`{"pageId":` + quote(p) + `}`),
		},
		"doc_op": {
			raw(`{"pageId":` + quote(p) + `,"version":0,"op":["a\u0000b"],"clientId":"c","seq":1}`),
			raw(`{"pageId":` + quote(p) + `,"version":0,"op":["\ud800"],"clientId":"c","seq":1}`),
			raw(`{"pageId":` + quote(p) + `,"version":0,"op":["a"],"clientId":"a\u0000b","seq":1}`),
			raw(`{"pageId":` + quote(p) + `,"version":0,"op":[1e3],"clientId":"c","seq":1}`),
			raw(`{"pageId":` + quote(p) + `,"version":0,"op":null,"clientId":"c","seq":1}`),
			raw(`{"pageId":` + quote(p) + `,"version":0.5,"op":["a"],"clientId":"c","seq":1}`),
			raw(`{"pageId":` + quote(p) + `,"version":0,"op":["a"],"clientId":"c","seq":-1}`),
			raw(`{"pageId":` + quote(p) + `,"Version":0,"op":["a"],"clientId":"c","seq":1}`),
			raw(`{"pageId":` + quote(p) + `,"version":0,"op":["a"],"clientId":"c","seq":1,"extra":1}`),
		},
		"doc_selection": {
			raw(`{"pageId":` + quote(p) + `,"version":0,"ranges":[{"anchor":0,"head":0,"x":1}]}`),
			raw(`{"pageId":` + quote(p) + `,"version":0,"ranges":[{"anchor":0.5,"head":0}]}`),
			raw(`{"pageId":` + quote(p) + `,"version":0,"Ranges":[]}`),
			raw(`{"pageId":"a\u0000b","version":0,"ranges":[]}`),
		},
		"refresh_auth": {
			raw(`{"Token":` + quote(u.Token) + `}`),
			raw(`{"token":"a\u0000b"}`),
			raw(`{"token":` + quote(u.Token) + `,"extra":1}`),
		},
	}
	// The page is joined first, so that a refused typing or cursor event is refused for its
	// argument, not because the page was not joined.
	s.join(p)
	for event, args := range cases {
		for _, arg := range args {
			ack := s.call(event, arg)
			e, _ := ack["error"].(map[string]any)
			if ack["ok"] != false || e["code"] != "invalid_request" {
				t.Errorf("%s %q: ack %v, want invalid_request", event, arg, ack)
			}
		}
	}
	// The same events with good arguments are accepted.
	for event, arg := range map[string]json.RawMessage{
		"join_page": raw(`{"pageId":` + quote(p) + `}`), "join_drive": raw(quote(d)),
		"typing_start": raw(`{"pageId":` + quote(p) + `}`), "cursor_move": raw(`{"pageId":` + quote(p) + `,"position":{"x":1}}`),
		"refresh_auth": raw(`{"token":` + quote(u.Token) + `}`),
		"doc_open":     raw(`{"pageId":` + quote(p) + `}`), "doc_ops": raw(`{"pageId":` + quote(p) + `,"since":0}`),
		"doc_selection": raw(`{"pageId":` + quote(p) + `,"version":0,"ranges":[{"anchor":0,"head":0}]}`),
	} {
		if ack := s.call(event, arg); ack["ok"] != true {
			t.Errorf("%s %s: ack %v, want ok", event, arg, ack)
		}
	}
}

// lockedBuffer is a log destination the test reads while the server writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestBadRecoveryPID reconnects with a pid no server gives out (NUL, overlong): the socket
// connects without recovering, and the pid never reaches the database (PostgreSQL would refuse
// it and the server log a failed session lookup).
func TestBadRecoveryPID(t *testing.T) {
	logs := &lockedBuffer{}
	r := start(t, func(c *app.Config) { c.LogOutput = logs })
	u := r.Signup("Pid")
	for _, pid := range []string{"a\x00b", strings.Repeat("p", 200)} {
		s, err := r.Dial(ctxT(t), map[string]any{"token": u.Token, "pid": pid, "offset": "1"}, nil)
		if err != nil {
			t.Fatalf("dial with pid %q: %v", pid, err)
		}
		// A round trip: the connect and any recovery are done when the ack arrives.
		var ack map[string]any
		if err := s.Call(ctxT(t), &ack, "leave_page", "x"); err != nil || ack["ok"] != true {
			t.Fatalf("leave_page: %v %v", ack, err)
		}
		s.Close()
	}
	if strings.Contains(logs.String(), "load session") {
		t.Fatalf("the pid reached the database: %s", logs.String())
	}
}

package messages_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
)

// startStream starts a streamed message in the channel as u.
func startStream(t *testing.T, env *apptest.Env, u apptest.User, pageID string, body any) msg {
	t.Helper()
	var m msg
	env.Do("POST", path(pageID, "/streams"), u.Token, body).Expect(201).JSON(&m)
	return m
}

// chunk sends chunk seq of message m as u.
func chunk(env *apptest.Env, u apptest.User, m msg, seq int64, text string) *apptest.Response {
	return env.Do("POST", path(m.PageID, "/", m.ID, "/chunks"), u.Token, map[string]any{"seq": seq, "text": text})
}

// chunkResult is the answer to an accepted chunk.
type chunkResult struct {
	Seq       int64
	Duplicate bool
}

func accept(t *testing.T, r *apptest.Response) chunkResult {
	t.Helper()
	var c chunkResult
	r.Expect(200).JSON(&c)
	return c
}

// details is error.details of an error answer.
func details(t *testing.T, r *apptest.Response) map[string]any {
	t.Helper()
	var b struct {
		Error struct {
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	r.JSON(&b)
	return b.Error.Details
}

func expectError(t *testing.T, r *apptest.Response, status int, code string) map[string]any {
	t.Helper()
	r.Expect(status)
	if r.ErrorCode() != code {
		t.Fatalf("code %q, want %q: %s", r.ErrorCode(), code, r.Body)
	}
	return details(t, r)
}

// messageEvents returns the types of the events u may see after `after` that are about message id.
func messageEvents(env *apptest.Env, u apptest.User, after, id string) []string {
	var types []string
	for _, e := range env.EventsAfter(u, after) {
		if m, ok := e.Payload["message"].(map[string]any); ok && m["id"] == id {
			types = append(types, e.Type)
		}
	}
	return types
}

// TestStreamLifecycle: start, chunks in order (duplicates ignored, gaps refused), the partial
// message readable, complete with the author's last seq, and only the start and the end in the
// event log.
func TestStreamLifecycle(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	after := env.LatestEvent()

	m := startStream(t, env, w.Member, ch, nil)
	if m.Status != "streaming" || m.Content != "" || m.StreamSeq != 0 || m.Author == nil || m.Author.ID != w.Member.ID || m.StatusReason != "" {
		t.Fatalf("started: %+v", m)
	}
	if c := accept(t, chunk(env, w.Member, m, 1, "Hello")); c.Seq != 1 || c.Duplicate {
		t.Fatalf("chunk 1: %+v", c)
	}
	accept(t, chunk(env, w.Member, m, 2, ", wörld 😀\n"))
	for _, seq := range []int64{2, 1} {
		if c := accept(t, chunk(env, w.Member, m, seq, "again")); c.Seq != 2 || !c.Duplicate {
			t.Fatalf("repeated chunk %d: %+v", seq, c)
		}
	}
	if d := expectError(t, chunk(env, w.Member, m, 4, "ahead"), 409, "seq_gap"); d["expectedSeq"] != 3.0 {
		t.Fatalf("seq_gap details %v", d)
	}
	var got msg
	env.Do("GET", path(ch, "/", m.ID), w.Viewer.Token, nil).Expect(200).JSON(&got)
	if got.Content != "Hello, wörld 😀\n" || got.StreamSeq != 2 || got.Status != "streaming" {
		t.Fatalf("partial message: %+v", got)
	}
	accept(t, chunk(env, w.Member, m, 3, "")) // a keep-alive
	expectError(t, env.Do("PATCH", path(ch, "/", m.ID), w.Member.Token, map[string]any{"content": "x"}), 409, "conflict")

	if d := expectError(t, env.Do("POST", path(ch, "/", m.ID, "/complete"), w.Member.Token, map[string]any{"seq": 5}), 409, "seq_gap"); d["expectedSeq"] != 4.0 {
		t.Fatalf("complete ahead: %v", d)
	}
	if d := expectError(t, env.Do("POST", path(ch, "/", m.ID, "/complete"), w.Member.Token, map[string]any{"seq": 2}), 409, "conflict"); d["streamSeq"] != 3.0 {
		t.Fatalf("complete behind: %v", d)
	}
	expectError(t, env.Do("POST", path(ch, "/", m.ID, "/complete"), w.Admin.Token, nil), 403, "forbidden")
	var done msg
	env.Do("POST", path(ch, "/", m.ID, "/complete"), w.Member.Token, map[string]any{"seq": 3}).Expect(200).JSON(&done)
	if done.Status != "complete" || done.Content != got.Content || done.StreamSeq != 3 {
		t.Fatalf("completed: %+v", done)
	}
	if d := expectError(t, chunk(env, w.Member, m, 4, "late"), 409, "stream_ended"); d["status"] != "complete" {
		t.Fatalf("stream_ended details %v", d)
	}
	expectError(t, env.Do("POST", path(ch, "/", m.ID, "/complete"), w.Member.Token, nil), 409, "stream_ended")
	expectError(t, env.Do("POST", path(ch, "/", m.ID, "/stop"), w.Owner.Token, nil), 409, "stream_ended")

	if types := messageEvents(env, w.Owner, after, m.ID); !slices.Equal(types, []string{"new_message", "message_updated"}) {
		t.Fatalf("events of the stream: %v", types)
	}
	// Ended, it is a message like any other: editable, listed, ordinary ones complete.
	env.Do("PATCH", path(ch, "/", m.ID), w.Member.Token, map[string]any{"content": "edited"}).Expect(200)
	plain := post(t, env, w.Owner, ch, "plain")
	if plain.Status != "complete" || plain.StreamSeq != 0 {
		t.Fatalf("an ordinary message: %+v", plain)
	}
	raw := env.Do("GET", path(ch, "/", plain.ID), w.Owner.Token, nil).Expect(200).Map()
	if _, has := raw["statusReason"]; has {
		t.Fatalf("statusReason on an ordinary message: %v", raw)
	}
}

// TestStreamFailAndStop: the author fails its stream with a reason; anyone who may post stops
// one, and its author is told in its user room; a reply streams in its thread.
func TestStreamFailAndStop(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	after := env.LatestEvent()

	failing := startStream(t, env, w.Member, ch, map[string]any{})
	accept(t, chunk(env, w.Member, failing, 1, "Thinking"))
	expectError(t, env.Do("POST", path(ch, "/", failing.ID, "/fail"), w.Admin.Token, map[string]any{"reason": "x"}), 403, "forbidden")
	expectError(t, env.Do("POST", path(ch, "/", failing.ID, "/fail"), w.Member.Token, nil), 400, "invalid_request")
	expectError(t, env.Do("POST", path(ch, "/", failing.ID, "/fail"), w.Member.Token, map[string]any{"reason": " "}), 400, "invalid_request")
	var failed msg
	env.Do("POST", path(ch, "/", failing.ID, "/fail"), w.Member.Token, map[string]any{"reason": "model overloaded"}).Expect(200).JSON(&failed)
	if failed.Status != "error" || failed.StatusReason != "model overloaded" || failed.Content != "Thinking" {
		t.Fatalf("failed: %+v", failed)
	}

	top := post(t, env, w.Owner, ch, "question")
	stopping := startStream(t, env, w.Member, ch, map[string]any{"parentId": top.ID})
	if stopping.ParentID == nil || *stopping.ParentID != top.ID {
		t.Fatalf("a streamed reply: %+v", stopping)
	}
	accept(t, chunk(env, w.Member, stopping, 1, "Let me"))
	expectError(t, env.Do("POST", path(ch, "/", stopping.ID, "/stop"), w.Viewer.Token, nil), 403, "forbidden")
	expectError(t, env.Do("POST", path(ch, "/", stopping.ID, "/stop"), w.Outsider.Token, nil), 404, "not_found")
	var stopped msg
	env.Do("POST", path(ch, "/", stopping.ID, "/stop"), w.Admin.Token, nil).Expect(200).JSON(&stopped)
	if stopped.Status != "stopped" || stopped.StatusReason != "stopped by Adam Admin" {
		t.Fatalf("stopped: %+v", stopped)
	}
	if d := expectError(t, chunk(env, w.Member, stopping, 2, " see"), 409, "stream_ended"); d["status"] != "stopped" {
		t.Fatalf("details %v", d)
	}

	told := env.EventsAfter(w.Member, after, "stream_stopped")
	if len(told) != 1 || told[0].Payload["messageId"] != stopping.ID || told[0].Payload["by"] != w.Admin.ID || told[0].Payload["pageId"] != ch {
		t.Fatalf("stream_stopped for the author: %+v", told)
	}
	if others := env.EventsAfter(w.Admin, after, "stream_stopped"); len(others) != 0 {
		t.Fatalf("stream_stopped is for the author only: %+v", others)
	}
}

// TestStreamAccess: starting needs edit; only the author adds to a stream; hidden pages and
// messages answer 404; an author who loses edit can add no more.
func TestStreamAccess(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	doc := w.Page("DOCUMENT", "notes")
	other := w.Page("CHANNEL", "other")
	m := startStream(t, env, w.Member, ch, nil)
	elsewhere := startStream(t, env, w.Member, other, nil)

	expectError(t, env.Do("POST", path(ch, "/streams"), w.Viewer.Token, nil), 403, "forbidden")
	expectError(t, env.Do("POST", path(ch, "/streams"), w.Outsider.Token, nil), 404, "not_found")
	expectError(t, env.Do("POST", path(doc, "/streams"), w.Member.Token, nil), 404, "not_found")
	expectError(t, chunk(env, w.Admin, m, 1, "mine now"), 403, "forbidden")
	expectError(t, chunk(env, w.Outsider, m, 1, "x"), 404, "not_found")
	expectError(t, chunk(env, w.Member, msg{PageID: ch, ID: modules.NewID()}, 1, "x"), 404, "not_found")
	expectError(t, chunk(env, w.Member, msg{PageID: ch, ID: elsewhere.ID}, 1, "x"), 404, "not_found")
	expectError(t, env.Do("GET", path(ch, "/", elsewhere.ID), w.Member.Token, nil), 404, "not_found")
	expectError(t, env.Do("GET", path(ch, "/", m.ID), w.Outsider.Token, nil), 404, "not_found")

	accept(t, chunk(env, w.Member, m, 1, "before"))
	env.SetRole(w.Owner, w.Drive, w.Member, "VIEWER")
	expectError(t, chunk(env, w.Member, m, 2, "after"), 403, "forbidden")
	expectError(t, env.Do("POST", path(ch, "/", m.ID, "/complete"), w.Member.Token, nil), 403, "forbidden")
	env.Do("POST", path(ch, "/", m.ID, "/stop"), w.Owner.Token, map[string]any{}).Expect(200)
}

// TestStreamLimits: an author's chunk rate (429 with Retry-After), a message's size in bytes
// (413 message_too_long), a chunk's size, and bad input, all clear 4xx answers.
func TestStreamLimits(t *testing.T) {
	w := apptest.Start(t, func(c *app.Config) {
		c.Stream.ChunkRate, c.Stream.ChunkBurst = 0.001, 5 // five, then one every 1,000 s
		c.Stream.MaxBytes = 16
	}).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")

	sized := startStream(t, env, w.Member, ch, nil)
	accept(t, chunk(env, w.Member, sized, 1, "0123456789"))
	if d := expectError(t, chunk(env, w.Member, sized, 2, "abcdefg"), 413, "message_too_long"); d["maxBytes"] != 16.0 {
		t.Fatalf("details %v", d)
	}
	accept(t, chunk(env, w.Member, sized, 2, "abcd"))
	expectError(t, chunk(env, w.Member, sized, 3, "éé"), 413, "message_too_long") // 4 bytes, 2 characters
	accept(t, chunk(env, w.Member, sized, 3, "é"))
	if d := expectError(t, chunk(env, w.Member, sized, 4, ""), 429, "rate_limited"); d["retryAfterMs"] == nil { // the sixth chunk
		t.Fatalf("rate_limited details %v", d)
	}
	if h := chunk(env, w.Member, sized, 4, "").Header.Get("Retry-After"); h == "" || h == "0" {
		t.Fatalf("Retry-After %q", h)
	}
	// The limit is the author's: another author streams on.
	own := startStream(t, env, w.Admin, ch, nil)
	accept(t, chunk(env, w.Admin, own, 1, "ok"))

	bad := startStream(t, env, w.Owner, ch, nil)
	p := path(ch, "/", bad.ID, "/chunks")
	cases := []struct {
		name string
		body any
		want int
	}{
		{"no body", nil, 400},
		{"seq zero", `{"seq":0,"text":"x"}`, 400},
		{"seq negative", `{"seq":-1,"text":"x"}`, 400},
		{"seq fraction", `{"seq":1.5,"text":"x"}`, 400},
		{"seq past 2^53", `{"seq":9007199254740993,"text":"x"}`, 400},
		{"seq a string", `{"seq":"1","text":"x"}`, 400},
		{"no seq", `{"text":"x"}`, 400},
		{"no text", `{"seq":1}`, 400},
		{"null text", `{"seq":1,"text":null}`, 400},
		{"NUL", `{"seq":1,"text":"a\u0000b"}`, 400},
		{"control character", `{"seq":1,"text":"a\u0007b"}`, 400},
		{"lone surrogate", `{"seq":1,"text":"\ud800"}`, 400},
		{"unknown field", `{"seq":1,"text":"x","final":true}`, 400},
		{"malformed", `{"seq":1,`, 400},
		{"chunk too large", map[string]any{"seq": 1, "text": strings.Repeat("a", 8193)}, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do("POST", p, w.Owner.Token, c.body).Expect(c.want)
			if r.ErrorCode() == "" || strings.Contains(string(r.Body), "internal") {
				t.Fatalf("error body: %s", r.Body)
			}
		})
	}
	for _, c := range []struct {
		route string
		body  any
	}{
		{"/complete", `{"seq":-1}`}, {"/complete", `{"seq":"3"}`}, {"/complete", `{"last":3}`},
		{"/fail", `{}`}, {"/fail", map[string]any{"reason": strings.Repeat("r", 501)}},
		{"/stop", `{"why":"x"}`},
	} {
		expectError(t, env.Do("POST", path(ch, "/", bad.ID, c.route), w.Owner.Token, c.body), 400, "invalid_request")
	}
	expectError(t, env.Do("POST", path(ch, "/streams"), w.Owner.Token, `{"parentId":"nope"}`), 400, "invalid_request")
	expectError(t, env.Do("POST", path(ch, "/streams"), w.Owner.Token, `{"content":"x"}`), 400, "invalid_request")
	// None of it touched the stream.
	var got msg
	env.Do("GET", path(ch, "/", bad.ID), w.Owner.Token, nil).Expect(200).JSON(&got)
	if got.Status != "streaming" || got.StreamSeq != 0 || got.Content != "" {
		t.Fatalf("after bad input: %+v", got)
	}
}

// TestStreamIdleSweep: a stream silent for STREAM_IDLE_TIMEOUT is interrupted, once, with
// message_updated, and takes no chunk after.
func TestStreamIdleSweep(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.Stream.IdleTimeout = 200 * time.Millisecond })
	w := env.NewWorld()
	ch := w.Page("CHANNEL", "general")
	sock := env.Socket(w.Viewer)
	sock.Join(ch)
	after := env.LatestEvent()

	silent := startStream(t, env, w.Member, ch, nil)
	var ended msg
	for ended.ID != silent.ID {
		var ev struct{ Message msg }
		if err := sock.Await("message_updated").Decode(0, &ev); err != nil {
			t.Fatal(err)
		}
		ended = ev.Message
	}
	if ended.Status != "interrupted" || ended.StatusReason != "silent for 0.2 s" || ended.Content != "" || ended.Author == nil {
		t.Fatalf("interrupted: %+v", ended)
	}
	expectError(t, chunk(env, w.Member, silent, 1, "later"), 409, "stream_ended")
	if types := messageEvents(env, w.Owner, after, silent.ID); !slices.Equal(types, []string{"new_message", "message_updated"}) {
		t.Fatalf("events of the silent stream: %v", types)
	}
}

// TestStreamDeleted: deleting a streaming message with replies leaves a tombstone that does not
// stream; chunks to it are refused.
func TestStreamDeleted(t *testing.T) {
	w := apptest.Start(t).NewWorld()
	env := w.Env
	ch := w.Page("CHANNEL", "general")
	m := startStream(t, env, w.Member, ch, nil)
	post(t, env, w.Owner, ch, "a reply", m.ID)
	env.Do("DELETE", path(ch, "/", m.ID), w.Owner.Token, nil).Expect(204)
	var tomb msg
	env.Do("GET", path(ch, "/", m.ID), w.Member.Token, nil).Expect(200).JSON(&tomb)
	if tomb.DeletedAt == nil || tomb.Status != "stopped" || tomb.StatusReason != "deleted" {
		t.Fatalf("tombstone: %+v", tomb)
	}
	expectError(t, chunk(env, w.Member, m, 1, "x"), 404, "not_found")
}

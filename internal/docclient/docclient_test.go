package docclient_test

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/docclient"
	"github.com/pagespace/pagespace/pages/ot"
)

// Two clients typing random edits (with emoji) at once, sometimes waiting for their ack and
// sometimes not (so ops are transformed in flight and buffered), end with the server's text.
func TestConcurrentTypingConverges(t *testing.T) {
	env := apptest.Start(t, fast)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	a := open(t, env, w.Owner, page, "client-a")
	b := open(t, env, w.Member, page, "client-b")
	var wg sync.WaitGroup
	for i, c := range []*docclient.Client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 42))
			for range 150 {
				if err := c.EditWith(func(text string) ot.Op { return randomEdit(rng, text) }); err != nil {
					t.Error(err)
					return
				}
				if rng.IntN(4) == 0 {
					if err := c.WaitSynced(ctxT(t, 30*time.Second)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	text := converge(t, env, w.Owner, page, a, b)
	// REST reads the same text.
	var p struct{ Content string }
	env.Do("GET", "/api/pages/"+page, w.Viewer.Token, nil).Expect(200).JSON(&p)
	if p.Content != text {
		t.Fatalf("REST content %q, sockets %q", p.Content, text)
	}
	if len(a.Remotes()) == 0 || len(b.Remotes()) == 0 {
		t.Fatalf("each client should have applied the other's ops: %d, %d", len(a.Remotes()), len(b.Remotes()))
	}
}

// A resubmitted {clientId, seq} is acknowledged with the version it became and applied once.
func TestResubmissionIsIdempotent(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	s := dial(t, env, w.Member)
	mustOK(t, call(t, s, "doc_open", map[string]string{"pageId": page}), "open")
	first := mustOK(t, call(t, s, "doc_op", docOp(page, 0, []any{"hi"}, "c1", 1)), "op")
	again := mustOK(t, call(t, s, "doc_op", docOp(page, 0, []any{"hi"}, "c1", 1)), "resubmit")
	if first.Version != 1 || again.Version != 1 {
		t.Fatalf("versions %d, %d; want 1, 1", first.Version, again.Version)
	}
	// From another socket, after a reconnect: the same answer.
	s2 := dial(t, env, w.Member)
	mustOK(t, call(t, s2, "doc_open", map[string]string{"pageId": page}), "open")
	if r := mustOK(t, call(t, s2, "doc_op", docOp(page, 0, []any{"hi"}, "c1", 1)), "resubmit"); r.Version != 1 {
		t.Fatalf("resubmitted elsewhere: version %d", r.Version)
	}
	if v, text := serverDoc(t, env, w.Owner, page); v != 1 || text != "hi" {
		t.Fatalf("server at %d: %q", v, text)
	}
	ops := mustOK(t, call(t, s2, "doc_ops", map[string]any{"pageId": page, "since": 0}), "ops")
	if len(ops.Ops) != 1 || ops.Ops[0].ClientID != "c1" || ops.Ops[0].Seq != 1 {
		t.Fatalf("ops %+v", ops.Ops)
	}
}

// An op based on an older version is transformed past the ops since; the submitted op's text
// goes first on ties. Others in the room receive it with its version; the submitter does not.
func TestStaleOpIsTransformed(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	a, b, watcher := dial(t, env, w.Owner), dial(t, env, w.Member), dial(t, env, w.Viewer)
	mustOK(t, call(t, a, "doc_open", map[string]string{"pageId": page}), "open a")
	mustOK(t, call(t, b, "doc_open", map[string]string{"pageId": page}), "open b")
	mustOK(t, call(t, watcher, "doc_open", map[string]string{"pageId": page}), "open watcher")
	mustOK(t, call(t, a, "doc_op", docOp(page, 0, []any{"hello"}, "a", 1)), "a")
	r := mustOK(t, call(t, b, "doc_op", docOp(page, 0, []any{"X"}, "b", 1)), "b")
	if r.Version != 2 {
		t.Fatalf("b's op became version %d", r.Version)
	}
	if _, text := serverDoc(t, env, w.Owner, page); text != "Xhello" {
		t.Fatalf("server text %q", text)
	}
	if evs := env.EventsAfter(w.Owner, "0", "doc_op"); len(evs) != 0 {
		t.Fatalf("GET /api/events lists %d doc_op events; they are live only", len(evs))
	}
	ctx := ctxT(t, 20*time.Second)
	for v := int64(1); v <= 2; v++ {
		ev, _, err := watcher.WaitFor(ctx, "doc_op")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			PageID   string `json:"pageId"`
			Version  int64  `json:"version"`
			Op       ot.Op  `json:"op"`
			UserID   string `json:"userId"`
			ClientID string `json:"clientId"`
			Seq      int64  `json:"seq"`
		}
		if err := ev.Decode(0, &got); err != nil {
			t.Fatal(err)
		}
		if got.Version != v || got.PageID != page || got.Seq != 1 {
			t.Fatalf("watcher got %+v, want version %d", got, v)
		}
		if v == 2 && (got.UserID != w.Member.ID || got.ClientID != "b" || got.Op.String() != ot.Op{}.Insert("X").Retain(5).String()) {
			t.Fatalf("version 2 as delivered: %+v", got)
		}
	}
	// b received a's op (version 1) and not its own (version 2): its ack stood for it.
	ev, _, err := b.WaitFor(ctx, "doc_op")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Version int64 }
	_ = ev.Decode(0, &got)
	if got.Version != 1 {
		t.Fatalf("b received version %d", got.Version)
	}
	mustOK(t, call(t, b, "doc_open", map[string]string{"pageId": page}), "barrier") // acks follow events
	select {
	case ev := <-b.Events:
		if ev.Name == "doc_op" {
			t.Fatalf("b received its own op: %v", ev.Args)
		}
	default:
	}
}

// Ops older than the kept window are too_old, for catch-up and for submission.
func TestTooOld(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.Doc.KeepOps = 3 })
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	s := dial(t, env, w.Owner)
	mustOK(t, call(t, s, "doc_open", map[string]string{"pageId": page}), "open")
	for v := int64(0); v < 5; v++ {
		mustOK(t, call(t, s, "doc_op", docOp(page, v, append(retain(v), "x"), "c", v+1)), "op")
	}
	wantCode(t, call(t, s, "doc_ops", map[string]any{"pageId": page, "since": 0}), "too_old", "since 0")
	wantCode(t, call(t, s, "doc_ops", map[string]any{"pageId": page, "since": 1}), "too_old", "since 1")
	r := mustOK(t, call(t, s, "doc_ops", map[string]any{"pageId": page, "since": 2}), "since 2")
	if r.Version != 5 || len(r.Ops) != 3 || r.Ops[0].Version != 3 {
		t.Fatalf("since 2: version %d, %d ops", r.Version, len(r.Ops))
	}
	wantCode(t, call(t, s, "doc_op", docOp(page, 1, []any{"y", 1}, "c", 100)), "too_old", "op on version 1")
	if r := mustOK(t, call(t, s, "doc_ops", map[string]any{"pageId": page, "since": 5}), "since 5"); len(r.Ops) != 0 {
		t.Fatalf("since 5: %d ops", len(r.Ops))
	}
}

func retain(n int64) []any {
	if n == 0 {
		return []any{}
	}
	return []any{n}
}

// Bad input and the limits get a clear error ack and change nothing.
func TestLimitsAndBadInput(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.Realtime.DocOpRate, c.Realtime.DocOpBurst = 0.001, 16 })
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	channel := w.Page("CHANNEL", "Chat")
	s := dial(t, env, w.Owner)
	wantCode(t, call(t, s, "doc_op", docOp(page, 0, []any{"x"}, "c", 1)), "not_found", "op before doc_open")
	mustOK(t, call(t, s, "doc_open", map[string]string{"pageId": page}), "open")
	wantCode(t, call(t, s, "doc_open", map[string]string{"pageId": channel}), "invalid_request", "open a channel")
	for name, arg := range map[string]any{
		"op not an array":   docOp(page, 0, "x", "c", 1),
		"zero retain":       docOp(page, 0, []any{0, "x"}, "c", 1),
		"base length":       docOp(page, 0, []any{3, "x"}, "c", 1),
		"version ahead":     docOp(page, 7, []any{"x"}, "c", 1),
		"negative version":  docOp(page, -1, []any{"x"}, "c", 1),
		"no clientId":       docOp(page, 0, []any{"x"}, "", 1),
		"reserved clientId": docOp(page, 0, []any{"x"}, "rest", 1),
		"unknown key":       map[string]any{"pageId": page, "version": 0, "op": []any{"x"}, "clientId": "c", "seq": 1, "extra": 1},
		"no seq":            map[string]any{"pageId": page, "version": 0, "op": []any{"x"}, "clientId": "c"},
	} {
		wantCode(t, call(t, s, "doc_op", arg), "invalid_request", name)
	}
	big := strings.Repeat("é", 200_000) // 400,000 bytes
	wantCode(t, call(t, s, "doc_op", docOp(page, 0, []any{big}, "c", 1)), "payload_too_large", "op over 256 KiB")
	chunk := strings.Repeat("a", 256<<10)
	for i := int64(0); i < 4; i++ {
		mustOK(t, call(t, s, "doc_op", docOp(page, i, append(retain(i*256<<10), chunk), "c", i+1)), "chunk")
	}
	wantCode(t, call(t, s, "doc_op", docOp(page, 4, []any{"!", 1 << 20}, "c", 5)), "payload_too_large", "document over 1 MB")
	if v, text := serverDoc(t, env, w.Owner, page); v != 4 || len(text) != 1<<20 {
		t.Fatalf("server at version %d, %d bytes", v, len(text))
	}
	// 16 ops so far (the refused ones count too); the burst is spent.
	wantCode(t, call(t, s, "doc_op", docOp(page, 4, []any{-1, 1<<20 - 1}, "c", 6)), "rate_limited", "over the op rate")
}

// A viewer may open and follow, not edit; a non-member cannot open.
func TestPermissions(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	v := dial(t, env, w.Viewer)
	mustOK(t, call(t, v, "doc_open", map[string]string{"pageId": page}), "viewer open")
	wantCode(t, call(t, v, "doc_op", docOp(page, 0, []any{"x"}, "v", 1)), "forbidden", "viewer op")
	mustOK(t, call(t, v, "doc_ops", map[string]any{"pageId": page, "since": 0}), "viewer ops")
	o := dial(t, env, w.Outsider)
	wantCode(t, call(t, o, "doc_open", map[string]string{"pageId": page}), "not_found", "outsider open")
	wantCode(t, call(t, o, "doc_ops", map[string]any{"pageId": page, "since": 0}), "not_found", "outsider ops")
	wantCode(t, call(t, o, "doc_op", docOp(page, 0, []any{"x"}, "o", 1)), "not_found", "outsider op")
	if ver, _ := serverDoc(t, env, w.Owner, page); ver != 0 {
		t.Fatalf("version %d after refused ops", ver)
	}
}

// After its socket is lost with an op in flight (which the server may or may not have applied),
// a client reconnects, catches up and sends the op again: it is applied exactly once.
func TestReconnectResubmits(t *testing.T) {
	env := apptest.Start(t, fast)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	other := open(t, env, w.Owner, page, "other")
	for round := range 20 {
		s := dial(t, env, w.Member)
		c, err := docclient.Open(ctxT(t, 20*time.Second), s, page, "member-"+string(rune('a'+round)))
		if err != nil {
			t.Fatal(err)
		}
		if err := other.EditWith(func(text string) ot.Op { return ot.Op{}.Insert("o").Retain(len([]rune(text))) }); err != nil {
			t.Fatal(err)
		}
		if err := c.EditWith(func(text string) ot.Op { return ot.Op{}.Retain(len([]rune(text))).Insert("m") }); err != nil {
			t.Fatal(err)
		}
		s.Close() // the op may be anywhere: unsent, applied without ack, acknowledged
		if err := c.Reconnect(ctxT(t, 20*time.Second), dial(t, env, w.Member)); err != nil {
			t.Fatal(err)
		}
		text := converge(t, env, w.Owner, page, c, other)
		if got := strings.Count(text, "m"); got != round+1 {
			t.Fatalf("round %d: %d m's in %q", round, got, text)
		}
		c.Close()
	}
}

package docclient_test

import (
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
)

type selection struct {
	PageID  string `json:"pageId"`
	UserID  string `json:"userId"`
	Name    string `json:"name"`
	Version int64  `json:"version"`
	Ranges  []struct {
		Anchor int64 `json:"anchor"`
		Head   int64 `json:"head"`
	} `json:"ranges"`
}

// nextSelection waits for the next doc_selection on s.
func nextSelection(t *testing.T, s *sioclient.Client) selection {
	t.Helper()
	ev, _, err := s.WaitFor(ctxT(t, 20*time.Second), "doc_selection")
	if err != nil {
		t.Fatal(err)
	}
	var sel selection
	if err := ev.Decode(0, &sel); err != nil {
		t.Fatal(err)
	}
	return sel
}

// Selections reach the others in the page's room with the sender's name, and are cleared (empty
// ranges) when the sender leaves the page or disconnects.
func TestSelections(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	a, b := dial(t, env, w.Member), dial(t, env, w.Viewer)
	sel := func(ranges ...[2]int) map[string]any {
		rs := []map[string]int{}
		for _, r := range ranges {
			rs = append(rs, map[string]int{"anchor": r[0], "head": r[1]})
		}
		return map[string]any{"pageId": page, "version": 0, "ranges": rs}
	}
	wantCode(t, call(t, a, "doc_selection", sel([2]int{0, 0})), "not_found", "before doc_open")
	mustOK(t, call(t, a, "doc_open", map[string]string{"pageId": page}), "open a")
	mustOK(t, call(t, b, "doc_open", map[string]string{"pageId": page}), "open b")
	wantCode(t, call(t, a, "doc_selection", map[string]any{"pageId": page, "version": 0}), "invalid_request", "no ranges")
	wantCode(t, call(t, a, "doc_selection", map[string]any{"pageId": page, "version": 0, "ranges": []map[string]int{{"anchor": -1, "head": 0}}}), "invalid_request", "negative")
	many := make([][2]int, 101)
	wantCode(t, call(t, a, "doc_selection", sel(many...)), "payload_too_large", "101 ranges")
	mustOK(t, call(t, a, "doc_selection", sel([2]int{0, 0}, [2]int{1, 3})), "selection")
	next := func() selection { return nextSelection(t, b) }
	if s := next(); s.UserID != w.Member.ID || s.Name != w.Member.Name || s.PageID != page || len(s.Ranges) != 2 || s.Ranges[1].Head != 3 {
		t.Fatalf("selection %+v", s)
	}
	mustOK(t, call(t, a, "leave_page", map[string]string{"pageId": page}), "leave")
	if s := next(); s.UserID != w.Member.ID || len(s.Ranges) != 0 {
		t.Fatalf("after leaving: %+v", s)
	}
	// A disconnect clears it too.
	a2 := dial(t, env, w.Owner)
	mustOK(t, call(t, a2, "doc_open", map[string]string{"pageId": page}), "open a2")
	mustOK(t, call(t, a2, "doc_selection", sel([2]int{2, 2})), "selection a2")
	if s := next(); s.UserID != w.Owner.ID || len(s.Ranges) != 1 {
		t.Fatalf("selection %+v", s)
	}
	a2.Close()
	if s := next(); s.UserID != w.Owner.ID || len(s.Ranges) != 0 {
		t.Fatalf("after disconnect: %+v", s)
	}
	// The sender never receives its own.
	mustOK(t, call(t, b, "doc_selection", sel([2]int{0, 0})), "selection b")
	mustOK(t, call(t, b, "doc_open", map[string]string{"pageId": page}), "reopen b") // an ack after anything sent to b
	for {
		select {
		case ev := <-b.Events:
			if ev.Name == "doc_selection" {
				var s selection
				_ = ev.Decode(0, &s)
				if s.UserID == w.Viewer.ID {
					t.Fatalf("b received its own selection")
				}
			}
			continue
		default:
		}
		break
	}
}

// A selection based on an older version reaches the others at the current version, its ranges
// transformed through the ops since: another's insert at a caret leaves it in front, the
// sender's own pushes it on. A version no longer kept answers too_old, one ahead of the
// document invalid_request.
func TestSelectionTransformed(t *testing.T) {
	env := apptest.Start(t, func(c *app.Config) { c.Doc.KeepOps = 1 })
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	a, b, r := dial(t, env, w.Member), dial(t, env, w.Admin), dial(t, env, w.Viewer)
	for _, s := range []*sioclient.Client{a, b, r} {
		mustOK(t, call(t, s, "doc_open", map[string]string{"pageId": page}), "open")
	}
	next := func() selection { return nextSelection(t, r) }
	sel := func(s *sioclient.Client, version int64, anchor, head int) reply {
		return call(t, s, "doc_selection", map[string]any{"pageId": page, "version": version,
			"ranges": []map[string]int{{"anchor": anchor, "head": head}}})
	}
	want := func(s selection, user string, version, anchor, head int64) {
		t.Helper()
		if s.UserID != user || s.Version != version || len(s.Ranges) != 1 || s.Ranges[0].Anchor != anchor || s.Ranges[0].Head != head {
			t.Fatalf("selection %+v, want user %s version %d [%d,%d]", s, user, version, anchor, head)
		}
	}
	mustOK(t, call(t, a, "doc_op", docOp(page, 0, []any{"ab"}, "a", 1)), "op 1") // "ab"
	if got := mustOK(t, sel(b, 0, 0, 0), "b at 0").Version; got != 1 {
		t.Fatalf("ack version %d, want 1", got)
	}
	want(next(), w.Admin.ID, 1, 0, 0) // a's insert at b's caret leaves it in front
	mustOK(t, sel(a, 0, 0, 0), "a at 0")
	want(next(), w.Member.ID, 1, 2, 2)                                                  // a's own insert pushes a's caret on
	mustOK(t, call(t, b, "doc_op", docOp(page, 1, []any{1, "XYZ", 1}, "b", 1)), "op 2") // "aXYZb"
	mustOK(t, sel(a, 1, 0, 2), "a at 1")
	want(next(), w.Member.ID, 2, 0, 5)
	mustOK(t, sel(a, 2, 1, 3), "a at 2")
	want(next(), w.Member.ID, 2, 1, 3)
	wantCode(t, sel(a, 0, 0, 0), "too_old", "version 0 with one op kept")
	wantCode(t, sel(a, 3, 0, 0), "invalid_request", "version ahead")
}

package docclient_test

import (
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
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
	ctx := ctxT(t, 20*time.Second)
	next := func() selection {
		t.Helper()
		ev, _, err := b.WaitFor(ctx, "doc_selection")
		if err != nil {
			t.Fatal(err)
		}
		var s selection
		if err := ev.Decode(0, &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
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

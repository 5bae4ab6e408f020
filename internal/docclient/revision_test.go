package docclient_test

import (
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/pages/ot"
)

// Typing is coalesced for the drive's watchers: after a pause the document becomes a revision
// and one page_updated carries its content; the revision history holds it.
func TestPauseMakesRevision(t *testing.T) {
	env := apptest.Start(t, fast, func(c *app.Config) { c.Doc.PauseRevision = 100 * time.Millisecond })
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	watcher := dial(t, env, w.Viewer)
	mustOK(t, call(t, watcher, "join_drive", map[string]string{"driveId": w.Drive}), "join drive")
	typist := open(t, env, w.Member, page, "typist")
	for _, s := range []string{"h", "e", "l", "l", "o"} {
		if err := typist.EditWith(func(text string) ot.Op { return ot.Op{}.Retain(len([]rune(text))).Insert(s) }); err != nil {
			t.Fatal(err)
		}
	}
	ctx := ctxT(t, 20*time.Second)
	if err := typist.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	var last struct {
		Fields   []string `json:"fields"`
		Revision int64    `json:"revision"`
		Content  *string  `json:"content"`
	}
	for last.Content == nil || *last.Content != "hello" {
		ev, skipped, err := watcher.WaitFor(ctx, "page_updated")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range skipped {
			if s.Name == "doc_op" {
				t.Fatalf("the drive's watcher received a doc_op")
			}
		}
		if err := ev.Decode(0, &last); err != nil {
			t.Fatal(err)
		}
	}
	var rev struct {
		Revision int64  `json:"revision"`
		Content  string `json:"content"`
	}
	env.Do("GET", "/api/pages/"+page+"/revisions/"+itoa(last.Revision), w.Viewer.Token, nil).Expect(200).JSON(&rev)
	if rev.Content != "hello" || last.Revision < 2 {
		t.Fatalf("revision %d: %q", last.Revision, rev.Content)
	}
}

func itoa(n int64) string { return fmtInt(n) }

// Restoring a revision is an op: an open editor receives it as a doc_op, and an edit typed
// against the text before the restore is transformed past it, not lost.
func TestRestoreRevisionIsAnOp(t *testing.T) {
	env := apptest.Start(t, fast)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	var saved struct {
		Revision int64 `json:"revision"`
	}
	env.Do("PATCH", "/api/pages/"+page, w.Owner.Token, map[string]any{"content": "first draft"}).Expect(200).JSON(&saved)
	typist := open(t, env, w.Member, page, "typist")
	watcher := open(t, env, w.Viewer, page, "watcher")
	if err := typist.EditWith(func(text string) ot.Op { return ot.Op{}.Retain(len([]rune(text))).Insert(", then more") }); err != nil {
		t.Fatal(err)
	}
	converge(t, env, w.Owner, page, typist, watcher)

	// A letter typed against the text before the restore reaches the server after it.
	before, text := typist.Version(), typist.Text()
	var p struct {
		Content  string `json:"content"`
		Revision int64  `json:"revision"`
	}
	env.Do("POST", "/api/pages/"+page+"/revisions/"+itoa(saved.Revision)+"/restore", w.Member.Token, nil).Expect(200).JSON(&p)
	if p.Revision <= saved.Revision {
		t.Fatalf("restore answered revision %d, want a new one after %d", p.Revision, saved.Revision)
	}
	late := dial(t, env, w.Member)
	mustOK(t, call(t, late, "doc_open", map[string]string{"pageId": page}), "doc_open")
	mustOK(t, call(t, late, "doc_op", docOp(page, before, []any{len([]rune(text)), "!"}, "late", 1)), "late doc_op")
	if text := converge(t, env, w.Owner, page, typist, watcher); text != "first draft!" {
		t.Fatalf("after the restore: %q, want %q", text, "first draft!")
	}
	var restores []ot.Op
	for _, r := range watcher.Remotes() {
		if r.ClientID == "rest" && r.Version > before {
			restores = append(restores, r.Op)
		}
	}
	if len(restores) != 1 || !restores[0].Equal(ot.Op{}.Retain(11).Delete(11)) {
		t.Fatalf("the watcher received the restore as %v, want one op [11,-11]", restores)
	}

	// Restoring what the page already holds changes nothing.
	var again, same struct {
		Revision int64 `json:"revision"`
	}
	env.Do("POST", "/api/pages/"+page+"/revisions/"+itoa(saved.Revision)+"/restore", w.Member.Token, nil).Expect(200).JSON(&again)
	env.Do("POST", "/api/pages/"+page+"/revisions/"+itoa(saved.Revision)+"/restore", w.Member.Token, nil).Expect(200).JSON(&same)
	if again.Revision <= p.Revision || same.Revision != again.Revision {
		t.Fatalf("restores made revisions %d then %d (after %d)", again.Revision, same.Revision, p.Revision)
	}

	// Errors.
	restore := func(u apptest.User, rev string) *apptest.Response {
		return env.Do("POST", "/api/pages/"+page+"/revisions/"+rev+"/restore", u.Token, nil)
	}
	restore(w.Viewer, itoa(saved.Revision)).Expect(403)
	restore(w.Outsider, itoa(saved.Revision)).Expect(404)
	if code := restore(w.Member, "999").Expect(404).ErrorCode(); code != "not_found" {
		t.Fatalf("unknown revision: %q", code)
	}
	restore(w.Member, "x").Expect(404)
	env.Do("POST", "/api/pages/nope/revisions/1/restore", w.Member.Token, nil).Expect(404)
	env.Do("DELETE", "/api/pages/"+page, w.Owner.Token, nil).Expect(204)
	restore(w.Member, itoa(saved.Revision)).Expect(409)
}

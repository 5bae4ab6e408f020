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

package docclient_test

import (
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/docclient"
	"github.com/pagespace/pagespace/pages/ot"
)

// A REST save of the whole text while someone types loses none of their keystrokes: with the
// docVersion it read, the save is merged with the ops since; without it, it is a replace of the
// current text that ops in flight are transformed past.
func TestRESTPatchDuringTyping(t *testing.T) {
	env := apptest.Start(t, fast)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	typist := open(t, env, w.Member, page, "typist")
	var stop atomic.Bool
	var typed atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			err := typist.EditWith(func(text string) ot.Op { return ot.Op{}.Retain(len([]rune(text))).Insert("a") })
			if err == nil {
				typed.Add(1)
				err = typist.Wait(ctxT(t, 30*time.Second), func(c *docclient.Client) bool { return c.State() != docclient.AwaitingWithBuffer })
			}
			if err != nil {
				t.Error(err)
				return
			}
		}
	}()
	ctx := ctxT(t, 60*time.Second)
	if err := typist.WaitVersion(ctx, 20); err != nil {
		t.Fatal(err)
	}
	var p struct {
		Content    string `json:"content"`
		DocVersion int64  `json:"docVersion"`
		Revision   int64  `json:"revision"`
	}
	env.Do("GET", "/api/pages/"+page, w.Owner.Token, nil).Expect(200).JSON(&p)
	if err := typist.WaitVersion(ctx, p.DocVersion+20); err != nil { // typed after the read
		t.Fatal(err)
	}
	env.Do("PATCH", "/api/pages/"+page, w.Owner.Token, map[string]any{"content": "REST " + p.Content, "docVersion": p.DocVersion + 1000}).Expect(400)
	var saved struct {
		Content    string `json:"content"`
		DocVersion int64  `json:"docVersion"`
	}
	env.Do("PATCH", "/api/pages/"+page, w.Owner.Token, map[string]any{"content": "REST " + p.Content, "docVersion": p.DocVersion,
		"expectedRevision": p.Revision}).Expect(200).JSON(&saved)
	if !strings.HasPrefix(saved.Content, "REST "+p.Content) || len(saved.Content) < len(p.Content)+5+20 {
		t.Fatalf("saved %q from %q", saved.Content, p.Content)
	}
	if err := typist.WaitVersion(ctx, saved.DocVersion+20); err != nil {
		t.Fatal(err)
	}
	stop.Store(true)
	wg.Wait()
	text := converge(t, env, w.Owner, page, typist)
	if want := "REST " + strings.Repeat("a", int(typed.Load())); text != want {
		t.Fatalf("text %q, want %q", text, want)
	}

	// Without docVersion the save replaces the current text; editors follow it.
	other := open(t, env, w.Owner, page, "other")
	env.Do("PATCH", "/api/pages/"+page, w.Owner.Token, map[string]any{"content": "replaced"}).Expect(200)
	if err := typist.EditWith(func(text string) ot.Op { return ot.Op{}.Retain(len([]rune(text))).Insert("!") }); err != nil {
		t.Fatal(err)
	}
	if text := converge(t, env, w.Owner, page, typist, other); !strings.HasPrefix(text, "replaced") || !strings.HasSuffix(text, "!") {
		t.Fatalf("after a replace: %q", text)
	}
}

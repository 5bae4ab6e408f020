package docclient_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// Ops sent to one document at once, all based on version 0 (so that those committed together
// in one group are transformed past each other), become consecutive versions, each once, and
// all their text is in the document; the refused ones among them (an op that does not fit, a
// viewer's, a resubmission) leave the others alone.
func TestSimultaneousOps(t *testing.T) {
	env := apptest.Start(t, fast)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	editors := []apptest.User{w.Owner, w.Admin, w.Member}
	const n = 24
	socks := make([]*sioclient.Client, n)
	for i := range socks {
		socks[i] = dial(t, env, editors[i%len(editors)])
		mustOK(t, call(t, socks[i], "doc_open", map[string]string{"pageId": page}), "open")
	}
	viewer := dial(t, env, w.Viewer)
	mustOK(t, call(t, viewer, "doc_open", map[string]string{"pageId": page}), "open viewer")
	replies := make([]reply, n)
	var bad, forbidden, again reply
	var wg sync.WaitGroup
	start := make(chan struct{})
	send := func(out *reply, s *sioclient.Client, arg map[string]any) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := s.Call(ctxT(t, 30*time.Second), out, "doc_op", arg); err != nil {
				t.Error(err)
			}
		}()
	}
	for i, s := range socks {
		send(&replies[i], s, docOp(page, 0, []any{fmt.Sprintf("<%d>", i)}, fmt.Sprint("c", i), 1))
	}
	send(&bad, socks[0], docOp(page, 0, []any{5, "x"}, "bad", 1))
	send(&forbidden, viewer, docOp(page, 0, []any{"v"}, "viewer", 1))
	send(&again, socks[1], docOp(page, 0, []any{"<1>"}, "c1", 1)) // the same {clientId, seq} as socket 1's
	close(start)
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	wantCode(t, bad, "invalid_request", "an op that does not fit")
	wantCode(t, forbidden, "forbidden", "a viewer's op")
	seen := map[int64]int{}
	for i, r := range replies {
		mustOK(t, r, fmt.Sprint("op ", i))
		if j, dup := seen[r.Version]; dup {
			t.Fatalf("ops %d and %d both became version %d", j, i, r.Version)
		}
		seen[r.Version] = i
	}
	if mustOK(t, again, "resubmission").Version != replies[1].Version {
		t.Fatalf("the resubmission was acknowledged as version %d, the op became %d", again.Version, replies[1].Version)
	}
	version, content := serverDoc(t, env, w.Owner, page)
	if version != n {
		t.Fatalf("version %d after %d ops", version, n)
	}
	for i := range n {
		if strings.Count(content, fmt.Sprintf("<%d>", i)) != 1 {
			t.Fatalf("<%d> is not in %q once", i, content)
		}
	}
}

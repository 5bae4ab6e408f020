package docclient_test

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/docclient"
	"github.com/pagespace/pagespace/pages/ot"
)

// A member is removed from the drive while the owner and the member type as fast as the server
// answers. The member's watching socket receives ops up to the revocation and none after it:
// every doc_op it got has an event id below the revocation's, and none follows access_revoked.
// The member's own ops stop being accepted.
func TestRevocationDuringTypingStorm(t *testing.T) {
	env := apptest.Start(t, fast)
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	owner := open(t, env, w.Owner, page, "owner")
	member := open(t, env, w.Member, page, "member")
	watch := dial(t, env, w.Member)
	mustOK(t, call(t, watch, "doc_open", map[string]string{"pageId": page}), "watch")

	var stop atomic.Bool
	var wg sync.WaitGroup
	typing := func(c *docclient.Client, letter string) {
		defer wg.Done()
		for !stop.Load() {
			err := c.EditWith(func(text string) ot.Op { return ot.Op{}.Retain(len([]rune(text))).Insert(letter) })
			if err == nil {
				err = c.Wait(ctxT(t, 30*time.Second), func(c *docclient.Client) bool { return c.State() != docclient.AwaitingWithBuffer })
			}
			if err != nil {
				return // the member's client stops at its first refused op
			}
		}
	}
	wg.Add(2)
	go typing(owner, "o")
	go typing(member, "m")
	ctx := ctxT(t, 60*time.Second)
	if err := owner.WaitVersion(ctx, 50); err != nil {
		t.Fatal(err)
	}
	env.Do("DELETE", "/api/drives/"+w.Drive+"/members/"+w.Member.ID, w.Owner.Token, nil).Expect(204)
	after := owner.Version()
	if err := owner.WaitVersion(ctx, after+50); err != nil {
		t.Fatal(err)
	}
	stop.Store(true)
	wg.Wait()
	if err := owner.WaitSynced(ctx); err != nil {
		t.Fatal(err)
	}
	if code := docclient.Code(member.Err()); code != "not_found" && code != "forbidden" {
		t.Fatalf("member's client: %v", member.Err())
	}
	removed := env.EventsAfter(w.Owner, "0", "member_removed")
	if len(removed) != 1 {
		t.Fatalf("%d member_removed events", len(removed))
	}
	revocation, _ := strconv.ParseInt(removed[0].EventID, 10, 64)
	// No op of the member committed after the revocation (its check holds the drive's access
	// lock until commit, so it commits before the revocation or is refused after it).
	var late int64
	env.App.DB().Table("events").Where("type = ? AND actor_id = ? AND id > ?", "doc_op", w.Member.ID, revocation).Count(&late)
	if late > 0 {
		t.Fatalf("%d ops of the removed member committed after the revocation", late)
	}

	// Every op the owner made was dispatched before its ack; an ack on the watcher now comes
	// after everything that was sent to it.
	wantCode(t, call(t, watch, "doc_ops", map[string]any{"pageId": page, "since": 0}), "not_found", "after removal")
	ops, revoked := 0, false
	for {
		var done bool
		select {
		case ev := <-watch.Events:
			switch ev.Name {
			case "access_revoked":
				revoked = true
			case "doc_op":
				ops++
				id, _ := strconv.ParseInt(ev.Offset, 10, 64)
				if revoked || id == 0 || id > revocation {
					t.Fatalf("doc_op event %q (revocation %d) reached the removed member (after access_revoked: %v)", ev.Offset, revocation, revoked)
				}
			}
		default:
			done = true
		}
		if done {
			break
		}
	}
	if !revoked || ops == 0 {
		t.Fatalf("watcher: access_revoked %v, %d ops before it", revoked, ops)
	}
	t.Logf("watcher got %d ops before the revocation; the owner made %d more after it", ops, owner.Version()-after)
}

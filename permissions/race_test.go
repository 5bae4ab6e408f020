package permissions_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// writeKinds are the writes a member makes on pages of the drive, one per package that checks
// access before writing: a message posted, a task created, a document's content replaced.
var writeKinds = []struct {
	name, typ, method, path string
	body                    func(i int) map[string]any
}{
	{"message", "CHANNEL", "POST", "/messages", func(i int) map[string]any { return map[string]any{"content": fmt.Sprint("post ", i)} }},
	{"task", "TASK_LIST", "POST", "/tasks", func(i int) map[string]any { return map[string]any{"title": fmt.Sprint("task ", i)} }},
	{"content", "DOCUMENT", "PATCH", "", func(i int) map[string]any { return map[string]any{"content": fmt.Sprint("draft ", i)} }},
}

// TestNoWriteCommitsAfterRevocation races a user's writes (messages, tasks, page content)
// against the revocation of their access and checks the event log: every write of theirs that
// committed comes before the revocation's event, none after. A write checked before the
// revocation commits before it; a write checked after it is refused (404).
func TestNoWriteCommitsAfterRevocation(t *testing.T) {
	t.Parallel()
	rounds := 4
	if testing.Short() {
		rounds = 1
	}
	env := apptest.Start(t)
	kinds := []struct {
		name    string
		revoked string // event type of the revocation
		setup   func(w *apptest.World, folder string, victim apptest.User)
		revoke  func(w *apptest.World, folder string, victim apptest.User)
	}{
		{name: "member removed", revoked: "member_removed",
			setup: func(w *apptest.World, _ string, v apptest.User) { env.AddMember(w.Owner, w.Drive, v, "MEMBER") },
			revoke: func(w *apptest.World, _ string, v apptest.User) {
				env.Do("DELETE", "/api/drives/"+w.Drive+"/members/"+v.ID, w.Admin.Token, nil).Expect(204)
			}},
		{name: "role lowered", revoked: "member_role_changed",
			setup:  func(w *apptest.World, _ string, v apptest.User) { env.AddMember(w.Owner, w.Drive, v, "MEMBER") },
			revoke: func(w *apptest.World, _ string, v apptest.User) { env.SetRole(w.Owner, w.Drive, v, "VIEWER") }},
		{name: "folder made private", revoked: "page_updated",
			setup: func(w *apptest.World, _ string, v apptest.User) { env.AddMember(w.Owner, w.Drive, v, "MEMBER") },
			revoke: func(w *apptest.World, folder string, _ apptest.User) {
				env.Do("PATCH", "/api/pages/"+folder, w.Owner.Token, map[string]any{"isPrivate": true}).Expect(200)
			}},
		{name: "folder trashed", revoked: "page_deleted",
			setup:  func(w *apptest.World, _ string, v apptest.User) { env.AddMember(w.Owner, w.Drive, v, "MEMBER") },
			revoke: func(w *apptest.World, folder string, _ apptest.User) { env.Trash(w.Owner, folder) }},
		{name: "grant revoked", revoked: "permission_revoked",
			setup: func(w *apptest.World, folder string, v apptest.User) {
				env.Grant(w.Owner, folder, v, true, true, false, false)
			},
			revoke: func(w *apptest.World, folder string, v apptest.User) {
				env.Do("DELETE", grantPath(folder, v), w.Admin.Token, nil).Expect(204)
			}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			for round := range rounds {
				w := env.NewWorld()
				victim := env.Signup(fmt.Sprint("Victim ", round))
				folder := env.CreatePage(w.Owner, w.Drive, "FOLDER", "Folder", "")
				pages := make([]string, len(writeKinds))
				for i, wk := range writeKinds {
					pages[i] = env.CreatePage(w.Owner, w.Drive, wk.typ, wk.name, folder)
				}
				k.setup(w, folder, victim)
				ok := raceWrites(t, env, victim, pages, func() { k.revoke(w, folder, victim) })
				after := writesAfter(t, env, w.Drive, victim.ID, k.revoked)
				if after > 0 {
					t.Fatalf("round %d: %d of %d writes by the victim are in the log after %s", round, after, ok, k.revoked)
				}
			}
		})
	}
}

// raceWrites runs writers of every kind as victim until revoke has returned, starting revoke
// once each writer has had a write accepted. It returns how many writes were accepted; a
// status other than success or 404 (403 for a VIEWER) fails the test.
func raceWrites(t *testing.T, env *apptest.Env, victim apptest.User, pages []string, revoke func()) int64 {
	t.Helper()
	const perKind = 3
	var (
		accepted atomic.Int64
		done     = make(chan struct{})
		started  sync.WaitGroup
		wg       sync.WaitGroup
		errs     = make(chan error, len(writeKinds)*perKind)
	)
	for i, wk := range writeKinds {
		for n := range perKind {
			started.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				first := true
				signal := func() {
					if first {
						first = false
						started.Done()
					}
				}
				defer signal()
				for j := 0; ; j++ {
					select {
					case <-done:
						return
					default:
					}
					st, body, err := env.Send(wk.method, "/api/pages/"+pages[i]+wk.path, victim.Token, wk.body(n*100000+j))
					switch {
					case err != nil:
						errs <- err
						return
					case st == 200 || st == 201:
						accepted.Add(1)
						signal()
					case st == 404 || st == 403: // access gone: keep trying until the revocation returned
						signal()
					default:
						errs <- fmt.Errorf("%s: status %d: %s", wk.name, st, body)
						return
					}
				}
			}()
		}
	}
	started.Wait()
	revoke()
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	return accepted.Load()
}

// writesAfter counts the events by actor in the drive that come after the revocation's event
// (the first event of that type by someone else).
func writesAfter(t *testing.T, env *apptest.Env, driveID, actorID, revoked string) int {
	t.Helper()
	var events []eventlog.Event
	if err := env.App.DB().Where("drive_id = ?", driveID).Order("id").Find(&events).Error; err != nil {
		t.Fatal(err)
	}
	after, seen := 0, false
	for _, e := range events {
		switch {
		case !seen && e.Type == revoked && (e.ActorID == nil || *e.ActorID != actorID):
			seen = true
		case seen && e.ActorID != nil && *e.ActorID == actorID:
			after++
		}
	}
	if !seen {
		t.Fatalf("no %s event in the log", revoked)
	}
	return after
}

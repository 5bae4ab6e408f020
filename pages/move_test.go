package pages_test

import (
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// TestMoveCannotWiden: a move that lets someone see a page who cannot see it now needs the share
// right on the page (403 share_required), so that a member with edit but no share cannot
// publish a private page by moving it; moves that widen nothing need edit only.
func TestMoveCannotWiden(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	secret := create(t, env, w.Owner, w.Drive, map[string]any{"title": "Secret", "type": "FOLDER", "isPrivate": true}).ID
	vault := create(t, env, w.Owner, w.Drive, map[string]any{"title": "Vault", "type": "FOLDER", "isPrivate": true}).ID
	public := env.CreatePage(w.Owner, w.Drive, "FOLDER", "Public", "")
	shared := env.CreatePage(w.Owner, w.Drive, "FOLDER", "Shared", "")
	plan := env.CreatePage(w.Owner, w.Drive, "DOCUMENT", "Plan", secret)
	notes := env.CreatePage(w.Owner, w.Drive, "DOCUMENT", "Notes", "")
	// Mia (MEMBER) may edit in both private folders but share nothing; Otto (no member) sees
	// the shared folder.
	env.Grant(w.Owner, secret, w.Member, true, true, false, false)
	env.Grant(w.Owner, vault, w.Member, true, true, false, false)
	env.Grant(w.Owner, shared, w.Outsider, true, false, false, false)

	move := func(u apptest.User, pageID string, parent any, pos float64) *apptest.Response {
		t.Helper()
		return env.Do("POST", "/api/pages/"+pageID+"/move", u.Token, map[string]any{"parentId": parent, "position": pos})
	}
	refused := func(r *apptest.Response) {
		t.Helper()
		r.Expect(403)
		if r.ErrorCode() != "share_required" {
			t.Fatalf("code %q, want share_required; %s", r.ErrorCode(), r.Body)
		}
	}
	sees := func(u apptest.User, pageID string, want bool) {
		t.Helper()
		st := env.Do("GET", "/api/pages/"+pageID, u.Token, nil).Status
		if (st == 200) != want || (!want && st != 404) {
			t.Fatalf("%s: GET %s = %d, want visible=%v", u.Name, pageID, st, want)
		}
	}
	sees(w.Viewer, plan, false)
	before := env.LatestEvent()

	// Out of the private folder, to the root or under a public folder: VIEWER and MEMBER roles
	// would see it.
	refused(move(w.Member, plan, nil, 1))
	refused(move(w.Member, plan, public, 1))
	sees(w.Viewer, plan, false)
	// Under a folder shared with a non-member.
	refused(move(w.Member, notes, shared, 1))
	sees(w.Outsider, notes, false)
	if evs := findEvents(env.EventsAfter(w.Owner, before), "page_moved", plan); len(evs) != 0 {
		t.Fatalf("a refused move recorded %d page_moved", len(evs))
	}

	// Moves that widen nothing need edit only: reordering, from one private folder into
	// another the same people see, and into a private folder (narrowing).
	move(w.Member, plan, secret, 5).Expect(200)
	move(w.Member, plan, vault, 1).Expect(200)
	move(w.Member, plan, secret, 1).Expect(200)
	move(w.Member, notes, vault, 2).Expect(200)
	sees(w.Viewer, notes, false)

	// With share on the page, the same move succeeds and the page is public.
	env.Grant(w.Owner, secret, w.Member, true, true, true, false)
	move(w.Member, plan, nil, 1).Expect(200)
	sees(w.Viewer, plan, true)
	// OWNER and ADMIN hold share everywhere.
	move(w.Admin, notes, shared, 1).Expect(200)
	sees(w.Outsider, notes, true)
}

// TestRestoreCannotWiden: a restore that puts a page at the drive root, because its parent is
// still in the trash, is a move out of that parent, with a move's rule.
func TestRestoreCannotWiden(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	secret := create(t, env, w.Owner, w.Drive, map[string]any{"title": "Secret", "type": "FOLDER", "isPrivate": true}).ID
	plan := env.CreatePage(w.Owner, w.Drive, "DOCUMENT", "Plan", secret)
	open := env.CreatePage(w.Owner, w.Drive, "FOLDER", "Open", "")
	memo := env.CreatePage(w.Owner, w.Drive, "DOCUMENT", "Memo", open)
	// Mia may view, edit and delete in both folders, but not share.
	env.Grant(w.Owner, secret, w.Member, true, true, false, true)
	env.Grant(w.Owner, open, w.Member, true, true, false, true)
	env.Trash(w.Member, plan)
	env.Trash(w.Owner, secret)
	env.Trash(w.Member, memo)
	env.Trash(w.Owner, open)

	r := env.Do("POST", "/api/pages/"+plan+"/restore", w.Member.Token, nil).Expect(403)
	if r.ErrorCode() != "share_required" {
		t.Fatalf("code %q, want share_required; %s", r.ErrorCode(), r.Body)
	}
	if st := env.Do("GET", "/api/pages/"+plan, w.Viewer.Token, nil).Status; st != 404 {
		t.Fatalf("VIEWER: GET the refused page = %d, want 404", st)
	}
	// From a public folder to the root widens nothing.
	env.Do("POST", "/api/pages/"+memo+"/restore", w.Member.Token, nil).Expect(200)
	// With share (OWNER and ADMIN hold it everywhere), the restore to the root goes through.
	var p page
	env.Do("POST", "/api/pages/"+plan+"/restore", w.Admin.Token, nil).Expect(200).JSON(&p)
	if p.ParentID != nil {
		t.Fatalf("restored under %v, want the root", *p.ParentID)
	}
	getPage(t, env, w.Viewer, plan)
}

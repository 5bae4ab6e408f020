package pages_test

import (
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// TestHiddenParentIsNotNamed: a grantee of a page inside a private folder gets the page with
// parentId null and detached (as in the tree), from every route that answers with the page and in
// the trash listing; the owner, who sees the folder, gets its id.
func TestHiddenParentIsNotNamed(t *testing.T) {
	env := apptest.Start(t)
	owner, guest := env.Signup("Owner"), env.Signup("Guest")
	d := env.CreateDrive(owner, "Drive")
	folder := create(t, env, owner, d, map[string]any{"title": "Folder", "type": "FOLDER", "isPrivate": true})
	folder2 := create(t, env, owner, d, map[string]any{"title": "Folder 2", "type": "FOLDER", "isPrivate": true})
	p := create(t, env, owner, d, map[string]any{"title": "Shared", "type": "DOCUMENT", "parentId": folder.ID})
	env.Grant(owner, p.ID, guest, true, true, false, true)

	hidden := func(how string, got page) {
		t.Helper()
		if got.ParentID != nil || !got.Detached {
			t.Fatalf("%s: the guest is shown the hidden parent: parentId %v, detached %v", how, got.ParentID, got.Detached)
		}
	}
	hidden("GET", getPage(t, env, guest, p.ID))
	var got page
	env.Do("PATCH", "/api/pages/"+p.ID, guest.Token, map[string]any{"title": "Renamed"}).Expect(200).JSON(&got)
	hidden("PATCH", got)
	if o := getPage(t, env, owner, p.ID); o.ParentID == nil || *o.ParentID != folder.ID || o.Detached {
		t.Fatalf("owner's page: parentId %v, detached %v", o.ParentID, o.Detached)
	}

	env.Do("POST", "/api/pages/"+p.ID+"/move", owner.Token, map[string]any{"parentId": folder2.ID, "position": 1}).Expect(200)
	hidden("GET after a move", getPage(t, env, guest, p.ID))

	env.Trash(guest, p.ID)
	var trash list
	env.Do("GET", "/api/drives/"+d+"/trash", guest.Token, nil).Expect(200).JSON(&trash)
	if len(trash.Items) != 1 || trash.Items[0].ID != p.ID {
		t.Fatalf("guest's trash: %+v", trash.Items)
	}
	hidden("trash listing", trash.Items[0])
	env.Do("GET", "/api/pages/"+p.ID+"?includeTrashed=true", guest.Token, nil).Expect(200).JSON(&got)
	hidden("GET includeTrashed", got)
	env.Do("POST", "/api/pages/"+p.ID+"/restore", guest.Token, nil).Expect(200).JSON(&got)
	hidden("restore", got)

	// A page the guest sees under a parent it also sees keeps its parentId.
	child := create(t, env, guest, d, map[string]any{"title": "Child", "type": "DOCUMENT", "parentId": p.ID})
	if child.ParentID == nil || *child.ParentID != p.ID || child.Detached {
		t.Fatalf("child: parentId %v, detached %v", child.ParentID, child.Detached)
	}
}

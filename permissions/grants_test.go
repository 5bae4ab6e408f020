package permissions_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
)

type grantItem struct {
	PageID    string  `json:"pageId"`
	UserID    string  `json:"userId"`
	Name      string  `json:"name"`
	Email     string  `json:"email"`
	CanView   bool    `json:"canView"`
	CanEdit   bool    `json:"canEdit"`
	CanShare  bool    `json:"canShare"`
	CanDelete bool    `json:"canDelete"`
	ExpiresAt *string `json:"expiresAt"`
	GrantedBy *string `json:"grantedBy"`
	CreatedAt string  `json:"createdAt"`
	UpdatedAt string  `json:"updatedAt"`
}

func grantPath(pageID string, u apptest.User) string {
	return "/api/pages/" + pageID + "/permissions/" + u.ID
}

func TestPutGrant(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	root := insertPage(t, env, c.Drive, "", false)
	private := insertPage(t, env, c.Drive, root, true)

	// A grant to a non-member shares one page and makes the drive visible to them.
	r := env.Do("PUT", grantPath(private, c.Outsider), c.Owner.Token, rights(true, false, false, false)).Expect(201)
	var g grantItem
	r.JSON(&g)
	if g.PageID != private || g.UserID != c.Outsider.ID || g.Email != c.Outsider.Email || g.Name != "Otto Outsider" ||
		!g.CanView || g.CanEdit || g.CanShare || g.CanDelete || g.ExpiresAt != nil || g.GrantedBy == nil || *g.GrantedBy != c.Owner.ID ||
		!strings.HasSuffix(g.CreatedAt, "Z") {
		t.Fatalf("grant: %s", r.Body)
	}
	d := env.Do("GET", "/api/drives/"+c.Drive, c.Outsider.Token, nil).Expect(200).Map()
	if d["role"] != nil {
		t.Fatalf("a grantee's drive has role null: %v", d)
	}
	list := env.Do("GET", "/api/drives", c.Outsider.Token, nil).Expect(200).Map()["items"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["id"] != c.Drive || list[0].(map[string]any)["role"] != nil {
		t.Fatalf("grantee's drives: %v", list)
	}

	// Upsert keeps createdAt; any right implies view.
	r = env.Do("PUT", grantPath(private, c.Outsider), c.Admin.Token, rights(false, true, false, false)).Expect(200)
	var g2 grantItem
	r.JSON(&g2)
	if !g2.CanView || !g2.CanEdit || g2.CreatedAt != g.CreatedAt || *g2.GrantedBy != c.Admin.ID {
		t.Fatalf("upserted grant: %s", r.Body)
	}
	future := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	body := rights(true, false, false, false)
	body["expiresAt"] = future.Format(time.RFC3339Nano)
	r = env.Do("PUT", grantPath(private, c.Viewer), c.Owner.Token, body).Expect(201)
	r.JSON(&g)
	if g.ExpiresAt == nil || *g.ExpiresAt != future.Format(modules.TimeLayout) {
		t.Fatalf("expiresAt not kept: %s", r.Body)
	}

	past := rights(true, false, false, false)
	past["expiresAt"] = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	nullExpiry := rights(true, false, false, false)
	nullExpiry["expiresAt"] = nil
	missing := map[string]any{"canView": true, "canEdit": false, "canShare": false}
	p := grantPath(private, c.Member)
	calls := []call{
		{"expiresAt in the past", "PUT", p, c.Owner.Token, past, 400},
		{"expiresAt not a time", "PUT", p, c.Owner.Token, `{"canView":true,"canEdit":false,"canShare":false,"canDelete":false,"expiresAt":"tomorrow"}`, 400},
		{"missing right", "PUT", p, c.Owner.Token, missing, 400},
		{"right wrong type", "PUT", p, c.Owner.Token, `{"canView":"yes","canEdit":false,"canShare":false,"canDelete":false}`, 400},
		{"null right", "PUT", p, c.Owner.Token, `{"canView":null,"canEdit":false,"canShare":false,"canDelete":false}`, 400},
		{"unknown grantee", "PUT", "/api/pages/" + private + "/permissions/nobody", c.Owner.Token, rights(true, false, false, false), 404},
		{"NUL grantee", "PUT", "/api/pages/" + private + "/permissions/a%00", c.Owner.Token, rights(true, false, false, false), 404},
		{"unknown page", "PUT", "/api/pages/nope/permissions/" + c.Member.ID, c.Owner.Token, rights(true, false, false, false), 404},
		{"page the caller cannot see", "PUT", p, c.Member.Token, rights(true, false, false, false), 404},
		{"page the caller sees without canShare", "PUT", grantPath(root, c.Viewer), c.Member.Token, rights(true, false, false, false), 403},
		{"viewer without canShare", "PUT", grantPath(root, c.Member), c.Viewer.Token, rights(true, false, false, false), 403},
		{"outsider on a page they cannot see", "PUT", grantPath(root, c.Member), c.Outsider.Token, rights(true, false, false, false), 404},
		{"null expiry is none", "PUT", p, c.Owner.Token, nullExpiry, 201},
		{"deny-all grant", "PUT", grantPath(root, c.Viewer), c.Admin.Token, rights(false, false, false, false), 201},
	}
	calls = append(calls, badBodies("PUT", p, c.Owner.Token)...)
	runCalls(t, env, calls)
}

func TestSharerCannotEscalate(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	page := insertPage(t, env, c.Drive, "", true)
	sharer, friend, editor := env.Signup("Sharer"), env.Signup("Friend"), env.Signup("Editor")
	env.Grant(c.Owner, page, sharer, true, false, true, false) // view + share, not a member
	env.Grant(c.Owner, page, editor, true, true, false, false)

	runCalls(t, env, []call{
		{"shares what they hold", "PUT", grantPath(page, friend), sharer.Token, rights(true, false, true, false), 201},
		{"cannot grant edit", "PUT", grantPath(page, friend), sharer.Token, rights(true, true, false, false), 403},
		{"cannot grant delete", "PUT", grantPath(page, c.Member), sharer.Token, rights(false, false, false, true), 403},
		{"cannot rewrite a stronger grant", "PUT", grantPath(page, editor), sharer.Token, rights(true, false, false, false), 403},
		{"cannot revoke a stronger grant", "DELETE", grantPath(page, editor), sharer.Token, nil, 403},
		{"lists grants", "GET", "/api/pages/" + page + "/permissions", sharer.Token, nil, 200},
		{"revokes what they could grant", "DELETE", grantPath(page, friend), sharer.Token, nil, 204},
		{"a viewer-only grantee cannot list", "GET", "/api/pages/" + page + "/permissions", editor.Token, nil, 403},
	})

	// A sharer whose own access expires cannot hand out access that outlives it.
	until := time.Now().Add(time.Hour).UTC()
	body := rights(true, false, true, false)
	body["expiresAt"] = until.Format(time.RFC3339Nano)
	env.Do("PUT", grantPath(page, sharer), c.Owner.Token, body).Expect(200)
	later, sooner := rights(true, false, false, false), rights(true, false, false, false)
	later["expiresAt"] = until.Add(time.Minute).Format(time.RFC3339Nano)
	sooner["expiresAt"] = until.Add(-time.Minute).Format(time.RFC3339Nano)
	runCalls(t, env, []call{
		{"no expiry", "PUT", grantPath(page, friend), sharer.Token, rights(true, false, false, false), 403},
		{"expiry after theirs", "PUT", grantPath(page, friend), sharer.Token, later, 403},
		{"expiry before theirs", "PUT", grantPath(page, friend), sharer.Token, sooner, 201},
	})
	// Once the sharer's grant expires they see nothing.
	expireGrant(t, env, page, sharer.ID)
	runCalls(t, env, []call{
		{"expired sharer", "PUT", grantPath(page, friend), sharer.Token, sooner, 404},
		{"expired sharer lists", "GET", "/api/pages/" + page + "/permissions", sharer.Token, nil, 404},
		{"expired sharer's drive", "GET", "/api/drives/" + c.Drive, sharer.Token, nil, 404},
	})
}

func TestListAndDeleteGrants(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	page := insertPage(t, env, c.Drive, "", false)
	users := []apptest.User{c.Member, c.Viewer, c.Outsider, env.Signup("Fourth"), env.Signup("Fifth")}
	for _, u := range users {
		env.Grant(c.Owner, page, u, true, false, false, false)
	}
	body := rights(true, true, false, false)
	body["expiresAt"] = time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	env.Do("PUT", grantPath(page, users[4]), c.Owner.Token, body).Expect(200)
	expireGrant(t, env, page, users[4].ID)

	var got []grantItem
	cursor := ""
	for range 10 {
		path := "/api/pages/" + page + "/permissions?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var list struct {
			Items      []grantItem `json:"items"`
			NextCursor *string     `json:"nextCursor"`
		}
		env.Do("GET", path, c.Admin.Token, nil).Expect(200).JSON(&list)
		got = append(got, list.Items...)
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
	}
	if len(got) != len(users) {
		t.Fatalf("grants listed: %s", jsonString(got))
	}
	for i, g := range got {
		if g.UserID != users[i].ID || g.Email != users[i].Email || g.PageID != page {
			t.Fatalf("grant %d = %+v, want %s", i, g, users[i].Name)
		}
	}
	if got[4].ExpiresAt == nil || !got[4].CanEdit {
		t.Fatalf("an expired grant is listed with its expiry: %+v", got[4])
	}

	runCalls(t, env, []call{
		{"member cannot list", "GET", "/api/pages/" + page + "/permissions", c.Member.Token, nil, 403},
		{"outsider with view cannot list", "GET", "/api/pages/" + page + "/permissions", c.Outsider.Token, nil, 403},
		{"stranger", "GET", "/api/pages/" + page + "/permissions", env.Signup("Stranger").Token, nil, 404},
		{"unknown page", "GET", "/api/pages/nope/permissions", c.Owner.Token, nil, 404},
		{"bad limit", "GET", "/api/pages/" + page + "/permissions?limit=1000", c.Owner.Token, nil, 400},
		{"no auth", "GET", "/api/pages/" + page + "/permissions", "", nil, 401},
		{"revoke", "DELETE", grantPath(page, c.Outsider), c.Admin.Token, nil, 204},
		{"revoke twice", "DELETE", grantPath(page, c.Outsider), c.Admin.Token, nil, 404},
		{"no grant", "DELETE", grantPath(page, c.Owner), c.Owner.Token, nil, 404},
		{"bogus user id", "DELETE", "/api/pages/" + page + "/permissions/%ff", c.Owner.Token, nil, 404},
		{"unknown page", "DELETE", "/api/pages/nope/permissions/" + c.Member.ID, c.Owner.Token, nil, 404},
		{"member without share", "DELETE", grantPath(page, c.Viewer), c.Member.Token, nil, 403},
		{"revoked outsider cannot see", "DELETE", grantPath(page, c.Viewer), c.Outsider.Token, nil, 404},
	})
	env.Do("GET", "/api/drives/"+c.Drive, c.Outsider.Token, nil).Expect(404)
}

func TestTrashedPageGrants(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	page := insertPage(t, env, c.Drive, "", false)
	env.Grant(c.Owner, page, c.Outsider, true, false, false, false)
	trashPage(t, env, page)
	runCalls(t, env, []call{
		{"list still works", "GET", "/api/pages/" + page + "/permissions", c.Owner.Token, nil, 200},
		{"no new grant", "PUT", grantPath(page, c.Member), c.Owner.Token, rights(true, false, false, false), 409},
		{"no revoke", "DELETE", grantPath(page, c.Outsider), c.Owner.Token, nil, 409},
		{"no access still 404", "PUT", grantPath(page, c.Member), env.Signup("Stranger").Token, rights(true, false, false, false), 404},
		{"no share still 403", "DELETE", grantPath(page, c.Outsider), c.Member.Token, nil, 403},
		// Still a grantee: it finds the page in the trash and hears when it comes back.
		{"grantee of a trashed page still sees the drive", "GET", "/api/drives/" + c.Drive, c.Outsider.Token, nil, 200},
		{"and its empty tree", "GET", "/api/drives/" + c.Drive + "/pages", c.Outsider.Token, nil, 200},
	})
	var drives struct{ Items []struct{ ID string } }
	env.Do("GET", "/api/drives", c.Outsider.Token, nil).Expect(200).JSON(&drives)
	if len(drives.Items) != 1 || drives.Items[0].ID != c.Drive {
		t.Fatalf("the grantee's drive list %+v, want the drive of its trashed page", drives.Items)
	}
	env.Do("DELETE", "/api/pages/"+page+"?permanent=true", c.Owner.Token, nil).Expect(204)
	env.Do("GET", "/api/drives/"+c.Drive, c.Outsider.Token, nil).Expect(404) // the grant went with the page
}

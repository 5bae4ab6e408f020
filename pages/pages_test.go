package pages_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
)

func TestCreateAndGet(t *testing.T) {
	env := apptest.Start(t)
	owner := env.Signup("Owner")
	d := env.CreateDrive(owner, "Drive")

	folder := create(t, env, owner, d, map[string]any{"title": "  Projects ", "type": "FOLDER"})
	if folder.Title != "Projects" || folder.Type != "FOLDER" || folder.ParentID != nil || folder.Revision != 1 ||
		folder.Position != 1 || folder.DriveID != d || folder.IsPrivate || !folder.Access.CanDelete {
		t.Fatalf("folder: %+v", folder)
	}
	if _, err := time.Parse(time.RFC3339, folder.CreatedAt); err != nil || !strings.HasSuffix(folder.CreatedAt, "Z") ||
		len(folder.CreatedAt) != len("2006-01-02T15:04:05.000Z") {
		t.Fatalf("createdAt %q", folder.CreatedAt)
	}
	second := create(t, env, owner, d, map[string]any{"title": "Second", "type": "CHANNEL"})
	if second.Position != 2 {
		t.Fatalf("default position after the last sibling: %v", second.Position)
	}
	doc := create(t, env, owner, d, map[string]any{"title": "Spec", "type": "DOCUMENT", "parentId": folder.ID, "content": "# hello", "position": 7.5})
	if *doc.ParentID != folder.ID || doc.Position != 7.5 {
		t.Fatalf("doc: %+v", doc)
	}
	next := create(t, env, owner, d, map[string]any{"title": "Tasks", "type": "TASK_LIST", "parentId": folder.ID, "position": nil})
	if next.Position != 8 {
		t.Fatalf("position after 7.5: %v", next.Position)
	}
	got := getPage(t, env, owner, doc.ID)
	if got.Content != "# hello" || got.Revision != 1 || got.Title != "Spec" || got.TrashedAt != nil {
		t.Fatalf("get: %+v", got)
	}
	// The fixture of apptest works against this route too.
	if id := env.CreatePage(owner, d, "DOCUMENT", "via fixture", folder.ID); id == "" {
		t.Fatal("no id")
	}
}

func TestCreateValidation(t *testing.T) {
	env := apptest.Start(t)
	owner := env.Signup("Owner")
	d := env.CreateDrive(owner, "Drive")
	other := env.CreateDrive(owner, "Drive")
	inOther := create(t, env, owner, other, map[string]any{"title": "elsewhere", "type": "FOLDER"})
	cases := []struct {
		name string
		body any
		want int
	}{
		{"no body", nil, 400},
		{"malformed", `{"title":`, 400},
		{"not an object", `["x"]`, 400},
		{"trailing data", `{"title":"a","type":"FOLDER"} {}`, 400},
		{"unknown field", map[string]any{"title": "a", "type": "FOLDER", "icon": "x"}, 400},
		{"title wrong type", map[string]any{"title": 5, "type": "FOLDER"}, 400},
		{"position wrong type", map[string]any{"title": "a", "type": "FOLDER", "position": "1"}, 400},
		{"isPrivate wrong type", map[string]any{"title": "a", "type": "FOLDER", "isPrivate": "yes"}, 400},
		{"unknown type", map[string]any{"title": "a", "type": "SPREADSHEET"}, 400},
		{"lower-case type", map[string]any{"title": "a", "type": "folder"}, 400},
		{"missing type", map[string]any{"title": "a"}, 400},
		{"missing title", map[string]any{"type": "FOLDER"}, 400},
		{"blank title", map[string]any{"title": "   ", "type": "FOLDER"}, 400},
		{"long title", map[string]any{"title": strings.Repeat("é", 201), "type": "FOLDER"}, 400},
		{"control char in title", map[string]any{"title": "a\x01b", "type": "FOLDER"}, 400},
		{"NUL in content", map[string]any{"title": "a", "type": "DOCUMENT", "content": "a\x00b"}, 400},
		{"huge position", map[string]any{"title": "a", "type": "FOLDER", "position": 1e300}, 400},
		{"empty parent id", map[string]any{"title": "a", "type": "FOLDER", "parentId": ""}, 400},
		{"bogus parent", map[string]any{"title": "a", "type": "FOLDER", "parentId": "nope"}, 404},
		{"NUL parent", `{"title":"a","type":"FOLDER","parentId":"\u0000"}`, 400},
		{"non-UTF-8 parent", "{\"title\":\"a\",\"type\":\"FOLDER\",\"parentId\":\"\xff\"}", 400},
		{"parent in another drive", map[string]any{"title": "a", "type": "FOLDER", "parentId": inOther.ID}, 400},
		{"too large", `{"title":"a","type":"DOCUMENT","content":"` + strings.Repeat("x", 1<<20) + `"}`, 413},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do("POST", "/api/drives/"+d+"/pages", owner.Token, c.body).Expect(c.want)
			if r.ErrorCode() == "" {
				t.Fatalf("no error code: %s", r.Body)
			}
		})
	}
	// Exactly 200 characters is fine, and so is content near the body limit.
	create(t, env, owner, d, map[string]any{"title": strings.Repeat("é", 200), "type": "FOLDER"})
	create(t, env, owner, d, map[string]any{"title": "big", "type": "DOCUMENT", "content": strings.Repeat("x", 1<<20-100)})
	env.Do("POST", "/api/drives/nope/pages", owner.Token, map[string]any{"title": "a", "type": "FOLDER"}).Expect(404)
	env.Do("POST", "/api/drives/"+d+"/pages", "", map[string]any{"title": "a", "type": "FOLDER"}).Expect(401)
	r := env.Do("POST", "/api/drives/"+d+"/pages", owner.Token, map[string]any{"title": "a", "type": "NOPE"}).Expect(400)
	if !strings.Contains(string(r.Body), `"type"`) {
		t.Fatalf("the error names the field: %s", r.Body)
	}
}

func TestBogusIDs(t *testing.T) {
	env := apptest.Start(t)
	owner := env.Signup("Owner")
	d := env.CreateDrive(owner, "Drive")
	p := env.CreatePage(owner, d, "DOCUMENT", "Doc", "")
	for _, id := range []string{"nope", "%00", "%FF", "a%0Ab", strings.Repeat("x", 500), "01a216e8-4074-7e31-90fa-dd86159beb4e"} {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", "/api/pages/" + id, nil},
			{"GET", "/api/pages/" + id + "?includeTrashed=true", nil},
			{"PATCH", "/api/pages/" + id, map[string]any{"title": "x"}},
			{"DELETE", "/api/pages/" + id, nil},
			{"DELETE", "/api/pages/" + id + "?permanent=true", nil},
			{"POST", "/api/pages/" + id + "/move", map[string]any{"parentId": nil, "position": 1}},
			{"POST", "/api/pages/" + id + "/restore", nil},
			{"GET", "/api/pages/" + id + "/revisions", nil},
			{"GET", "/api/pages/" + id + "/revisions/1", nil},
			{"GET", "/api/drives/" + id + "/pages", nil},
			{"GET", "/api/drives/" + id + "/trash", nil},
			{"POST", "/api/drives/" + id + "/pages", map[string]any{"title": "x", "type": "FOLDER"}},
		} {
			if r := env.Do(c.method, c.path, owner.Token, c.body); r.Status != 404 || r.ErrorCode() != "not_found" {
				t.Errorf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
			}
		}
	}
	env.Do("POST", "/api/pages/"+p+"/move", owner.Token, `{"parentId":"\u0000","position":1}`).Expect(400)
	env.Do("POST", "/api/pages/"+p+"/move", owner.Token, map[string]any{"parentId": "", "position": 1}).Expect(400)
}

func TestDepthLimit(t *testing.T) {
	env := apptest.Start(t)
	owner := env.Signup("Owner")
	d := env.CreateDrive(owner, "Drive")
	parent := ""
	var chain []string
	for i := 0; i < 64; i++ {
		parent = env.CreatePage(owner, d, "FOLDER", fmt.Sprintf("level %d", i+1), parent)
		chain = append(chain, parent)
	}
	r := env.Do("POST", "/api/drives/"+d+"/pages", owner.Token, map[string]any{"title": "65", "type": "FOLDER", "parentId": parent}).Expect(400)
	if !strings.Contains(string(r.Body), "deeper") {
		t.Fatalf("depth error: %s", r.Body)
	}
	// A two-level subtree cannot go under level 63 either, but fits under level 62.
	top := env.CreatePage(owner, d, "FOLDER", "top", "")
	env.CreatePage(owner, d, "FOLDER", "child", top)
	env.Do("POST", "/api/pages/"+top+"/move", owner.Token, map[string]any{"parentId": chain[62], "position": 1}).Expect(400)
	env.Do("POST", "/api/pages/"+top+"/move", owner.Token, map[string]any{"parentId": chain[61], "position": 1}).Expect(200)
}

func TestTreeOrderAndPagination(t *testing.T) {
	env := apptest.Start(t)
	owner := env.Signup("Owner")
	d := env.CreateDrive(owner, "Drive")
	b := create(t, env, owner, d, map[string]any{"title": "B", "type": "FOLDER", "position": 2})
	a := create(t, env, owner, d, map[string]any{"title": "A", "type": "FOLDER", "position": 1})
	c := create(t, env, owner, d, map[string]any{"title": "C", "type": "DOCUMENT", "position": -3.5})
	b2 := create(t, env, owner, d, map[string]any{"title": "B2", "type": "DOCUMENT", "parentId": b.ID, "position": 2})
	b1 := create(t, env, owner, d, map[string]any{"title": "B1", "type": "DOCUMENT", "parentId": b.ID, "position": 1})
	a1 := create(t, env, owner, d, map[string]any{"title": "A1", "type": "DOCUMENT", "parentId": a.ID})
	gone := create(t, env, owner, d, map[string]any{"title": "gone", "type": "DOCUMENT", "parentId": a.ID})
	env.Do("DELETE", "/api/pages/"+gone.ID, owner.Token, nil).Expect(204)

	got := tree(t, env, owner, d)
	children := map[string][]string{}
	for _, p := range got {
		if p.Content != "" {
			t.Fatalf("the tree carries no content: %+v", p)
		}
		key := ""
		if p.ParentID != nil {
			key = *p.ParentID
		}
		children[key] = append(children[key], p.ID)
	}
	if len(got) != 6 {
		t.Fatalf("tree has %d pages, want 6 (trashed excluded): %v", len(got), ids(got))
	}
	want := map[string][]string{"": {c.ID, a.ID, b.ID}, a.ID: {a1.ID}, b.ID: {b1.ID, b2.ID}}
	for k, v := range want {
		if fmt.Sprint(children[k]) != fmt.Sprint(v) {
			t.Fatalf("children of %q: %v, want %v", k, children[k], v)
		}
	}
	// Root pages come first, and each parent's children are together in position order.
	if got[0].ID != c.ID || got[1].ID != a.ID || got[2].ID != b.ID {
		t.Fatalf("roots first: %v", ids(got))
	}
	// Pages of 2 give the same sequence.
	var paged []page
	cursor := ""
	for i := 0; ; i++ {
		var l list
		env.Do("GET", "/api/drives/"+d+"/pages?limit=2&cursor="+cursor, owner.Token, nil).Expect(200).JSON(&l)
		if len(l.Items) > 2 {
			t.Fatalf("limit ignored: %d", len(l.Items))
		}
		paged = append(paged, l.Items...)
		if l.NextCursor == nil {
			break
		}
		cursor = *l.NextCursor
	}
	if fmt.Sprint(ids(paged)) != fmt.Sprint(ids(got)) {
		t.Fatalf("paged %v, whole %v", ids(paged), ids(got))
	}
	for _, q := range []string{"limit=0", "limit=201", "limit=x", "cursor=!!!", "cursor=bm90LWpzb24"} {
		env.Do("GET", "/api/drives/"+d+"/pages?"+q, owner.Token, nil).Expect(400)
	}
	env.Do("GET", "/api/drives/nope/pages", owner.Token, nil).Expect(404)
	env.Do("GET", "/api/drives/"+d+"/pages", "", nil).Expect(401)
}

func TestAccess(t *testing.T) {
	env := apptest.Start(t)
	owner, admin, member, viewer, outsider, guest := env.Signup("Owner"), env.Signup("Admin"), env.Signup("Member"),
		env.Signup("Viewer"), env.Signup("Outsider"), env.Signup("Guest")
	d := env.CreateDrive(owner, "Drive")
	env.AddMember(owner, d, admin, "ADMIN")
	env.AddMember(owner, d, member, "MEMBER")
	env.AddMember(owner, d, viewer, "VIEWER")

	pub := create(t, env, owner, d, map[string]any{"title": "Public", "type": "FOLDER"})
	secret := create(t, env, owner, d, map[string]any{"title": "Secret", "type": "FOLDER", "isPrivate": true})
	inside := create(t, env, owner, d, map[string]any{"title": "Inside", "type": "DOCUMENT", "parentId": secret.ID})
	shared := create(t, env, owner, d, map[string]any{"title": "Shared", "type": "DOCUMENT", "parentId": secret.ID})

	// Viewing: a private page does not exist for members without a grant.
	for _, u := range []apptest.User{owner, admin, member, viewer} {
		getPage(t, env, u, pub.ID)
	}
	for _, u := range []apptest.User{member, viewer, outsider} {
		env.Do("GET", "/api/pages/"+secret.ID, u.Token, nil).Expect(404)
		env.Do("GET", "/api/pages/"+inside.ID, u.Token, nil).Expect(404)
		env.Do("PATCH", "/api/pages/"+secret.ID, u.Token, map[string]any{"title": "x"}).Expect(404)
		env.Do("DELETE", "/api/pages/"+secret.ID, u.Token, nil).Expect(404)
	}
	getPage(t, env, admin, inside.ID)
	if got := ids(tree(t, env, member, d)); fmt.Sprint(got) != fmt.Sprint([]string{pub.ID}) {
		t.Fatalf("member's tree %v", got)
	}
	if got := tree(t, env, admin, d); len(got) != 4 {
		t.Fatalf("admin's tree %v", ids(got))
	}
	env.Do("GET", "/api/drives/"+d+"/pages", outsider.Token, nil).Expect(404)
	env.Do("GET", "/api/drives/"+d+"/trash", outsider.Token, nil).Expect(404)
	env.Do("POST", "/api/drives/"+d+"/pages", outsider.Token, map[string]any{"title": "x", "type": "FOLDER"}).Expect(404)

	// Editing: VIEWER may look, not touch.
	env.Do("PATCH", "/api/pages/"+pub.ID, viewer.Token, map[string]any{"title": "x"}).Expect(403)
	env.Do("POST", "/api/drives/"+d+"/pages", viewer.Token, map[string]any{"title": "x", "type": "FOLDER"}).Expect(403)
	env.Do("POST", "/api/drives/"+d+"/pages", viewer.Token, map[string]any{"title": "x", "type": "FOLDER", "parentId": pub.ID}).Expect(403)
	env.Do("DELETE", "/api/pages/"+pub.ID, viewer.Token, nil).Expect(403)
	env.Do("POST", "/api/pages/"+pub.ID+"/move", viewer.Token, map[string]any{"parentId": nil, "position": 9}).Expect(403)
	// MEMBER edits and creates, but neither deletes nor changes privacy.
	env.Do("PATCH", "/api/pages/"+pub.ID, member.Token, map[string]any{"title": "Renamed"}).Expect(200)
	mine := create(t, env, member, d, map[string]any{"title": "Mine", "type": "DOCUMENT"})
	create(t, env, member, d, map[string]any{"title": "Child", "type": "DOCUMENT", "parentId": pub.ID})
	env.Do("DELETE", "/api/pages/"+mine.ID, member.Token, nil).Expect(403)
	env.Do("PATCH", "/api/pages/"+mine.ID, member.Token, map[string]any{"isPrivate": true}).Expect(403)
	env.Do("POST", "/api/drives/"+d+"/pages", member.Token, map[string]any{"title": "x", "type": "FOLDER", "isPrivate": true}).Expect(403)
	env.Do("PATCH", "/api/pages/"+mine.ID, member.Token, map[string]any{"isPrivate": false}).Expect(200) // unchanged: no share needed
	env.Do("PATCH", "/api/pages/"+mine.ID, admin.Token, map[string]any{"isPrivate": true}).Expect(200)
	env.Do("GET", "/api/pages/"+mine.ID, member.Token, nil).Expect(404)

	// A grant opens a private page, to a member and to someone outside the drive.
	env.Grant(owner, shared.ID, member, true, true, false, false)
	env.Grant(owner, shared.ID, guest, true, false, false, false)
	if p := getPage(t, env, member, shared.ID); !p.Access.CanEdit || p.Access.CanDelete {
		t.Fatalf("member's access on the shared page: %+v", p.Access)
	}
	env.Do("PATCH", "/api/pages/"+shared.ID, member.Token, map[string]any{"content": "hi"}).Expect(200)
	env.Do("PATCH", "/api/pages/"+shared.ID, guest.Token, map[string]any{"content": "hi"}).Expect(403)
	env.Do("GET", "/api/pages/"+inside.ID, member.Token, nil).Expect(404)
	// The tree shows the shared page at the root, without its hidden parent's id.
	for _, u := range []apptest.User{member, guest} {
		var found *page
		for _, p := range tree(t, env, u, d) {
			if p.ID == secret.ID || p.ID == inside.ID {
				t.Fatalf("%s sees a hidden page", u.Name)
			}
			if p.ID == shared.ID {
				found = &p
			}
		}
		if found == nil || found.ParentID != nil || !found.Detached {
			t.Fatalf("%s: shared page in the tree: %+v", u.Name, found)
		}
	}
	// A guest with view only may not create under the page (403: they see it); the drive's root
	// is for members, and a non-member does not see it (404, as for any other outsider).
	env.Do("POST", "/api/drives/"+d+"/pages", guest.Token, map[string]any{"title": "x", "type": "FOLDER", "parentId": shared.ID}).Expect(403)
	env.Do("POST", "/api/drives/"+d+"/pages", guest.Token, map[string]any{"title": "x", "type": "FOLDER"}).Expect(404)
	// A share grant lets its holder change privacy, and it keeps its access.
	env.Grant(owner, pub.ID, viewer, true, true, true, true)
	env.Do("PATCH", "/api/pages/"+pub.ID, viewer.Token, map[string]any{"isPrivate": true}).Expect(200)
	getPage(t, env, viewer, pub.ID)
	env.Do("GET", "/api/pages/"+pub.ID, member.Token, nil).Expect(404)
}

func TestUpdateAndRevisions(t *testing.T) {
	env := apptest.Start(t)
	owner := env.Signup("Owner")
	d := env.CreateDrive(owner, "Drive")
	p := create(t, env, owner, d, map[string]any{"title": "Doc", "type": "DOCUMENT", "content": "v1"})

	var u page
	env.Do("PATCH", "/api/pages/"+p.ID, owner.Token, map[string]any{"content": "v2"}).Expect(200).JSON(&u)
	if u.Revision != 2 || u.Content != "v2" || u.Title != "Doc" {
		t.Fatalf("after patch: %+v", u)
	}
	env.Do("PATCH", "/api/pages/"+p.ID, owner.Token, map[string]any{"title": "Doc 3", "expectedRevision": 2}).Expect(200).JSON(&u)
	if u.Revision != 3 || u.Title != "Doc 3" {
		t.Fatalf("after conditional patch: %+v", u)
	}
	// A stale revision is refused with the current one.
	r := env.Do("PATCH", "/api/pages/"+p.ID, owner.Token, map[string]any{"content": "lost", "expectedRevision": 2}).Expect(409)
	var e struct {
		Error struct {
			Code    string
			Details map[string]any
		}
	}
	r.JSON(&e)
	if e.Error.Code != "conflict" || e.Error.Details["currentRevision"] != float64(3) {
		t.Fatalf("conflict body: %s", r.Body)
	}
	// Changing nothing is not a revision.
	env.Do("PATCH", "/api/pages/"+p.ID, owner.Token, map[string]any{"title": "Doc 3", "content": "v2"}).Expect(200).JSON(&u)
	if u.Revision != 3 {
		t.Fatalf("no-op patch bumped the revision: %d", u.Revision)
	}
	if got := getPage(t, env, owner, p.ID); got.Revision != 3 || got.Content != "v2" {
		t.Fatalf("get after patches: %+v", got)
	}
	for name, body := range map[string]any{
		"empty":            map[string]any{},
		"only expectation": map[string]any{"expectedRevision": 3},
		"null title":       map[string]any{"title": nil},
		"null content":     map[string]any{"content": nil},
		"null isPrivate":   map[string]any{"isPrivate": nil},
		"blank title":      map[string]any{"title": " "},
		"long title":       map[string]any{"title": strings.Repeat("x", 201)},
		"wrong type":       map[string]any{"title": 3},
		"bad revision":     map[string]any{"title": "x", "expectedRevision": 0},
		"float revision":   map[string]any{"title": "x", "expectedRevision": 1.5},
		"string revision":  map[string]any{"title": "x", "expectedRevision": "3"},
		"unknown field":    map[string]any{"title": "x", "type": "FOLDER"},
		"malformed":        `{"title":"x"`,
		"NUL in content":   map[string]any{"content": "\x00"},
	} {
		t.Run(name, func(t *testing.T) {
			env.Do("PATCH", "/api/pages/"+p.ID, owner.Token, body).Expect(400)
		})
	}
	env.Do("PATCH", "/api/pages/nope", owner.Token, map[string]any{"title": "x"}).Expect(404)
	env.Do("GET", "/api/pages/nope", owner.Token, nil).Expect(404)
	env.Do("GET", "/api/pages/"+p.ID+"?includeTrashed=maybe", owner.Token, nil).Expect(400)

	// History, newest first, paginated; one revision with its content.
	var h struct {
		Items []struct {
			Revision int64
			Title    string
			AuthorID string
			Content  *string
		}
		NextCursor *string
	}
	env.Do("GET", "/api/pages/"+p.ID+"/revisions?limit=2", owner.Token, nil).Expect(200).JSON(&h)
	if len(h.Items) != 2 || h.Items[0].Revision != 3 || h.Items[1].Revision != 2 || h.NextCursor == nil ||
		h.Items[0].AuthorID != owner.ID || h.Items[0].Content != nil {
		t.Fatalf("revisions page 1: %+v", h)
	}
	env.Do("GET", "/api/pages/"+p.ID+"/revisions?limit=2&cursor="+*h.NextCursor, owner.Token, nil).Expect(200).JSON(&h)
	if len(h.Items) != 1 || h.Items[0].Revision != 1 || h.NextCursor != nil {
		t.Fatalf("revisions page 2: %+v", h)
	}
	var one struct {
		Revision int64
		Title    string
		Content  *string
	}
	env.Do("GET", "/api/pages/"+p.ID+"/revisions/2", owner.Token, nil).Expect(200).JSON(&one)
	if one.Revision != 2 || one.Title != "Doc" || one.Content == nil || *one.Content != "v2" {
		t.Fatalf("revision 2: %+v", one)
	}
	env.Do("GET", "/api/pages/"+p.ID+"/revisions/9", owner.Token, nil).Expect(404)
	env.Do("GET", "/api/pages/"+p.ID+"/revisions/x", owner.Token, nil).Expect(404)
	env.Do("GET", "/api/pages/"+p.ID+"/revisions?cursor=garbage", owner.Token, nil).Expect(400)
	env.Do("GET", "/api/pages/nope/revisions", owner.Token, nil).Expect(404)
	if n := count(t, env, "page_revisions", "page_id = ?", p.ID); n != 3 {
		t.Fatalf("%d revision rows, want 3", n)
	}
}

func TestConcurrentUpdates(t *testing.T) {
	env := apptest.Start(t)
	owner := env.Signup("Owner")
	d := env.CreateDrive(owner, "Drive")
	p := create(t, env, owner, d, map[string]any{"title": "Doc", "type": "DOCUMENT"})

	const n = 12
	type result struct {
		status int
		body   []byte
		err    error
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			s, b, err := env.Send("PATCH", "/api/pages/"+p.ID, owner.Token,
				map[string]any{"content": fmt.Sprintf("writer %d", i), "expectedRevision": 1})
			results[i] = result{s, b, err}
		}(i)
	}
	close(start)
	wg.Wait()
	ok := 0
	for _, r := range results {
		if r.err != nil {
			t.Fatal(r.err)
		}
		switch r.status {
		case 200:
			ok++
		case 409:
			var e struct {
				Error struct{ Details map[string]any }
			}
			if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Details["currentRevision"] != float64(2) {
				t.Fatalf("409 body: %s", r.body)
			}
		default:
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	if ok != 1 {
		t.Fatalf("%d writers succeeded, want exactly 1", ok)
	}
	if got := getPage(t, env, owner, p.ID); got.Revision != 2 {
		t.Fatalf("revision %d, want 2", got.Revision)
	}

	// Without expectedRevision every writer succeeds, one revision each.
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, b, err := env.Send("PATCH", "/api/pages/"+p.ID, owner.Token, map[string]any{"content": fmt.Sprintf("last %d", i)})
			results[i] = result{s, b, err}
		}(i)
	}
	wg.Wait()
	for _, r := range results {
		if r.err != nil || r.status != 200 {
			t.Fatalf("unconditional write: %d %s %v", r.status, r.body, r.err)
		}
	}
	if got := getPage(t, env, owner, p.ID); got.Revision != 2+n {
		t.Fatalf("revision %d, want %d", got.Revision, 2+n)
	}
	if c := count(t, env, "page_revisions", "page_id = ?", p.ID); c != 2+n {
		t.Fatalf("%d revision rows, want %d", c, 2+n)
	}
}

func TestMove(t *testing.T) {
	env := apptest.Start(t)
	owner, member := env.Signup("Owner"), env.Signup("Member")
	d := env.CreateDrive(owner, "Drive")
	other := env.CreateDrive(owner, "Drive")
	env.AddMember(owner, d, member, "MEMBER")
	a := env.CreatePage(owner, d, "FOLDER", "A", "")
	b := env.CreatePage(owner, d, "FOLDER", "B", "")
	a1 := env.CreatePage(owner, d, "DOCUMENT", "A1", a)
	a2 := env.CreatePage(owner, d, "DOCUMENT", "A2", a)
	a1x := env.CreatePage(owner, d, "DOCUMENT", "A1x", a1)
	elsewhere := env.CreatePage(owner, d, "FOLDER", "E", "")
	foreign := env.CreatePage(owner, other, "FOLDER", "F", "")

	// Reorder: A2 before A1.
	var p page
	env.Do("POST", "/api/pages/"+a2+"/move", owner.Token, map[string]any{"parentId": a, "position": 0.5}).Expect(200).JSON(&p)
	if p.Position != 0.5 || *p.ParentID != a || p.Revision != 1 {
		t.Fatalf("reordered: %+v", p)
	}
	var order []string
	for _, q := range tree(t, env, owner, d) {
		if q.ParentID != nil && *q.ParentID == a {
			order = append(order, q.ID)
		}
	}
	if fmt.Sprint(order) != fmt.Sprint([]string{a2, a1}) {
		t.Fatalf("children of A: %v", order)
	}
	// Move A1 (with its child) under B, then to the root.
	env.Do("POST", "/api/pages/"+a1+"/move", owner.Token, map[string]any{"parentId": b, "position": 1}).Expect(200).JSON(&p)
	if *p.ParentID != b {
		t.Fatalf("moved: %+v", p)
	}
	if got := getPage(t, env, owner, a1x); *got.ParentID != a1 {
		t.Fatal("the subtree moves with its root")
	}
	env.Do("POST", "/api/pages/"+a1+"/move", owner.Token, map[string]any{"parentId": nil, "position": 10}).Expect(200).JSON(&p)
	if p.ParentID != nil || p.Position != 10 {
		t.Fatalf("to root: %+v", p)
	}
	// Cycles.
	env.Do("POST", "/api/pages/"+a1+"/move", owner.Token, map[string]any{"parentId": a1, "position": 1}).Expect(400)
	r := env.Do("POST", "/api/pages/"+a1+"/move", owner.Token, map[string]any{"parentId": a1x, "position": 1}).Expect(400)
	if !strings.Contains(string(r.Body), "descendant") {
		t.Fatalf("cycle error: %s", r.Body)
	}
	// Bad destinations and bodies.
	env.Do("POST", "/api/pages/"+a1+"/move", owner.Token, map[string]any{"parentId": foreign, "position": 1}).Expect(400)
	env.Do("POST", "/api/pages/"+a1+"/move", owner.Token, map[string]any{"parentId": "nope", "position": 1}).Expect(404)
	env.Do("POST", "/api/pages/nope/move", owner.Token, map[string]any{"parentId": nil, "position": 1}).Expect(404)
	env.Do("DELETE", "/api/pages/"+elsewhere, owner.Token, nil).Expect(204)
	env.Do("POST", "/api/pages/"+a1+"/move", owner.Token, map[string]any{"parentId": elsewhere, "position": 1}).Expect(409)
	env.Do("POST", "/api/pages/"+elsewhere+"/move", owner.Token, map[string]any{"parentId": nil, "position": 1}).Expect(404)
	for name, body := range map[string]any{
		"no parentId":   map[string]any{"position": 1},
		"no position":   map[string]any{"parentId": nil},
		"bad position":  map[string]any{"parentId": nil, "position": "first"},
		"bad parent":    map[string]any{"parentId": 5, "position": 1},
		"unknown field": map[string]any{"parentId": nil, "position": 1, "driveId": other},
		"empty":         nil,
	} {
		t.Run(name, func(t *testing.T) {
			env.Do("POST", "/api/pages/"+a1+"/move", owner.Token, body).Expect(400)
		})
	}
	// A member may not move into a private folder it cannot see.
	secret := create(t, env, owner, d, map[string]any{"title": "S", "type": "FOLDER", "isPrivate": true})
	env.Do("POST", "/api/pages/"+a1+"/move", member.Token, map[string]any{"parentId": secret.ID, "position": 1}).Expect(404)
	env.Do("POST", "/api/pages/"+a1+"/move", member.Token, map[string]any{"parentId": b, "position": 3}).Expect(200)
}

func TestTrashAndRestore(t *testing.T) {
	env := apptest.Start(t)
	owner, member := env.Signup("Owner"), env.Signup("Member")
	d := env.CreateDrive(owner, "Drive")
	env.AddMember(owner, d, member, "MEMBER")
	a := env.CreatePage(owner, d, "FOLDER", "A", "")
	b := env.CreatePage(owner, d, "FOLDER", "B", a)
	c := env.CreatePage(owner, d, "DOCUMENT", "C", b)
	sib := env.CreatePage(owner, d, "DOCUMENT", "Sibling", a)

	env.Do("DELETE", "/api/pages/"+b, member.Token, nil).Expect(403)
	env.Do("DELETE", "/api/pages/"+b, owner.Token, nil).Expect(204)
	env.Do("DELETE", "/api/pages/"+b, owner.Token, nil).Expect(404)
	for _, id := range []string{b, c} {
		env.Do("GET", "/api/pages/"+id, owner.Token, nil).Expect(404)
		env.Do("PATCH", "/api/pages/"+id, owner.Token, map[string]any{"title": "x"}).Expect(404)
		env.Do("GET", "/api/pages/"+id+"?includeTrashed=true", member.Token, nil).Expect(404)
	}
	if p := getPage(t, env, owner, b+"?includeTrashed=true"); p.TrashedAt == nil {
		t.Fatalf("trashed page: %+v", p)
	}
	env.Do("POST", "/api/drives/"+d+"/pages", owner.Token, map[string]any{"title": "x", "type": "FOLDER", "parentId": b}).Expect(409)
	if got := ids(tree(t, env, owner, d)); fmt.Sprint(got) != fmt.Sprint([]string{a, sib}) {
		t.Fatalf("tree after trash: %v", got)
	}
	trash := func(u apptest.User) []page {
		var l list
		env.Do("GET", "/api/drives/"+d+"/trash", u.Token, nil).Expect(200).JSON(&l)
		return l.Items
	}
	if got := trash(owner); len(got) != 1 || got[0].ID != b || got[0].PageCount != 2 {
		t.Fatalf("trash: %+v", got)
	}
	if got := trash(member); len(got) != 0 {
		t.Fatalf("a member without delete sees no trash: %+v", got)
	}

	// Trash A too: only A and the sibling go with it; B keeps its own trash root.
	env.Do("DELETE", "/api/pages/"+a, owner.Token, nil).Expect(204)
	got := trash(owner)
	if len(got) != 2 || got[0].ID != a || got[0].PageCount != 2 || got[1].ID != b {
		t.Fatalf("trash, newest first: %+v", got)
	}
	var l list
	env.Do("GET", "/api/drives/"+d+"/trash?limit=1", owner.Token, nil).Expect(200).JSON(&l)
	if len(l.Items) != 1 || l.NextCursor == nil {
		t.Fatalf("trash page 1: %+v", l)
	}
	env.Do("GET", "/api/drives/"+d+"/trash?limit=1&cursor="+*l.NextCursor, owner.Token, nil).Expect(200).JSON(&l)
	if len(l.Items) != 1 || l.Items[0].ID != b || l.NextCursor != nil {
		t.Fatalf("trash page 2: %+v", l)
	}
	env.Do("GET", "/api/drives/"+d+"/trash?cursor=zzz", owner.Token, nil).Expect(400)

	// C was trashed with B: restore B, not C.
	r := env.Do("POST", "/api/pages/"+c+"/restore", owner.Token, nil).Expect(409)
	if !strings.Contains(string(r.Body), b) {
		t.Fatalf("restore of a non-root names the root: %s", r.Body)
	}
	env.Do("POST", "/api/pages/"+b+"/restore", member.Token, nil).Expect(403)
	// A is still trashed, so B comes back at the drive root, with C.
	var p page
	env.Do("POST", "/api/pages/"+b+"/restore", owner.Token, nil).Expect(200).JSON(&p)
	if p.ParentID != nil || p.TrashedAt != nil {
		t.Fatalf("restored to root: %+v", p)
	}
	if got := getPage(t, env, owner, c); *got.ParentID != b {
		t.Fatalf("C: %+v", got)
	}
	env.Do("POST", "/api/pages/"+b+"/restore", owner.Token, nil).Expect(409)
	// Restoring A brings back exactly A and the sibling, in place.
	env.Do("POST", "/api/pages/"+a+"/restore", owner.Token, nil).Expect(200)
	if got := getPage(t, env, owner, sib); *got.ParentID != a {
		t.Fatalf("sibling: %+v", got)
	}
	if got := getPage(t, env, owner, b); got.ParentID != nil {
		t.Fatalf("B stays at the root: %+v", got)
	}
	if got := trash(owner); len(got) != 0 {
		t.Fatalf("trash after restores: %+v", got)
	}
	env.Do("POST", "/api/pages/nope/restore", owner.Token, nil).Expect(404)
}

func TestPermanentDelete(t *testing.T) {
	env := apptest.Start(t)
	owner, member := env.Signup("Owner"), env.Signup("Member")
	d := env.CreateDrive(owner, "Drive")
	env.AddMember(owner, d, member, "MEMBER")
	root := env.CreatePage(owner, d, "FOLDER", "Root", "")
	ch := env.CreatePage(owner, d, "CHANNEL", "Chat", root)
	tl := env.CreatePage(owner, d, "TASK_LIST", "Todo", ch)
	keep := env.CreatePage(owner, d, "DOCUMENT", "Keep", "")
	env.Grant(owner, ch, member, true, true, false, false)
	db := env.App.DB()
	now := modules.Now()
	if err := db.Exec("INSERT INTO messages (id, page_id, author_id, content, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
		modules.NewID(), ch, owner.ID, "hello", now, now).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("INSERT INTO tasks (id, page_id, title, status, position, created_at, updated_at) VALUES (?, ?, ?, 'todo', 1, ?, ?)",
		modules.NewID(), tl, "do it", now, now).Error; err != nil {
		t.Fatal(err)
	}

	env.Do("DELETE", "/api/pages/"+root+"?permanent=maybe", owner.Token, nil).Expect(400)
	env.Do("DELETE", "/api/pages/"+root+"?permanent=true", member.Token, nil).Expect(403)
	env.Do("DELETE", "/api/pages/"+ch, owner.Token, nil).Expect(204) // into the trash first
	env.Do("DELETE", "/api/pages/"+root+"?permanent=true", owner.Token, nil).Expect(204)
	for _, id := range []string{root, ch, tl} {
		env.Do("GET", "/api/pages/"+id+"?includeTrashed=true", owner.Token, nil).Expect(404)
	}
	for table, where := range map[string]string{
		"pages": "id IN ?", "page_revisions": "page_id IN ?", "messages": "page_id IN ?", "tasks": "page_id IN ?",
		"page_permissions": "page_id IN ?",
	} {
		if n := count(t, env, table, where, []string{root, ch, tl}); n != 0 {
			t.Fatalf("%d rows left in %s", n, table)
		}
	}
	getPage(t, env, owner, keep)
	env.Do("DELETE", "/api/pages/"+root+"?permanent=true", owner.Token, nil).Expect(404)
	// A page in the trash can be deleted for good on its own.
	env.Do("DELETE", "/api/pages/"+keep, owner.Token, nil).Expect(204)
	env.Do("DELETE", "/api/pages/"+keep+"?permanent=1", owner.Token, nil).Expect(204)
	if n := count(t, env, "pages", "drive_id = ?", d); n != 0 {
		t.Fatalf("%d pages left", n)
	}
}

func TestEvents(t *testing.T) {
	env := apptest.Start(t)
	owner, member := env.Signup("Owner"), env.Signup("Member")
	d := env.CreateDrive(owner, "Drive")
	env.AddMember(owner, d, member, "MEMBER")
	folder := env.CreatePage(owner, d, "FOLDER", "Folder", "")
	doc := env.CreatePage(owner, d, "DOCUMENT", "Doc", folder)
	child := env.CreatePage(owner, d, "DOCUMENT", "Child", doc)
	secret := create(t, env, owner, d, map[string]any{"title": "Top secret title", "type": "DOCUMENT", "isPrivate": true})

	env.Do("PATCH", "/api/pages/"+doc, owner.Token, map[string]any{"title": "Doc 2", "content": "hello"}).Expect(200)
	big := strings.Repeat("b", 70<<10)
	env.Do("PATCH", "/api/pages/"+doc, owner.Token, map[string]any{"content": big}).Expect(200)
	env.Do("PATCH", "/api/pages/"+secret.ID, owner.Token, map[string]any{"content": "classified"}).Expect(200)
	env.Do("POST", "/api/pages/"+doc+"/move", owner.Token, map[string]any{"parentId": nil, "position": 5}).Expect(200)
	env.Do("DELETE", "/api/pages/"+doc, owner.Token, nil).Expect(204)
	env.Do("POST", "/api/pages/"+doc+"/restore", owner.Token, nil).Expect(200)
	env.Do("DELETE", "/api/pages/"+doc+"?permanent=true", owner.Token, nil).Expect(204)

	evs := env.EventsAfter(owner, "0")
	one := func(typ, pageID string, i int) map[string]any {
		t.Helper()
		got := findEvents(evs, typ, pageID)
		if len(got) <= i {
			t.Fatalf("no %s #%d for %s in %d events", typ, i, pageID, len(evs))
		}
		p := got[i].Payload
		if p["driveId"] != d || p["actorId"] != owner.ID || p["type"] != typ || p["eventId"] != got[i].EventID || p["at"] == nil {
			t.Fatalf("%s envelope: %v", typ, p)
		}
		return p
	}
	created := one("page_created", doc, 0)
	pg := created["page"].(map[string]any)
	if pg["id"] != doc || pg["parentId"] != folder || pg["title"] != "Doc" || pg["type"] != "DOCUMENT" || pg["revision"] != float64(1) {
		t.Fatalf("page_created: %v", created)
	}
	if _, ok := pg["content"]; ok {
		t.Fatalf("tree events carry no content: %v", pg)
	}
	upd := one("page_updated", doc, 0)
	if fmt.Sprint(upd["fields"]) != "[title content]" || upd["revision"] != float64(2) || upd["content"] != "hello" ||
		upd["page"].(map[string]any)["title"] != "Doc 2" {
		t.Fatalf("page_updated: %v", upd)
	}
	upd = one("page_updated", doc, 1)
	if upd["contentOmitted"] != true || upd["content"] != nil || upd["revision"] != float64(3) {
		t.Fatalf("page_updated with big content: %v", upd)
	}
	moved := one("page_moved", doc, 0)
	if moved["previousParentId"] != folder || moved["page"].(map[string]any)["parentId"] != nil ||
		moved["page"].(map[string]any)["position"] != float64(5) {
		t.Fatalf("page_moved: %v", moved)
	}
	del := one("page_deleted", doc, 0)
	if fmt.Sprint(del["pageIds"]) != fmt.Sprint([]any{doc, child}) || del["permanent"] != false {
		t.Fatalf("page_deleted: %v", del)
	}
	res := one("page_restored", doc, 0)
	if fmt.Sprint(res["pageIds"]) != fmt.Sprint([]any{doc, child}) {
		t.Fatalf("page_restored: %v", res)
	}
	perm := one("page_deleted", doc, 1)
	if fmt.Sprint(perm["pageIds"]) != fmt.Sprint([]any{doc, child}) || perm["permanent"] != true {
		t.Fatalf("permanent page_deleted: %v", perm)
	}
	// Rooms in the log.
	var rooms []string
	if err := env.App.DB().Table("events").Where("type = ? AND page_id = ?", "page_created", folder).Pluck("rooms", &rooms).Error; err != nil || len(rooms) != 1 {
		t.Fatalf("rooms: %v %v", rooms, err)
	}
	if rooms[0] != `["page:`+folder+`","drive:`+d+`"]` {
		t.Fatalf("rooms %s", rooms[0])
	}
	// The member sees the public pages' events, never the private page's.
	mevs := env.EventsAfter(member, "0")
	if len(findEvents(mevs, "page_created", folder)) != 1 {
		t.Fatal("member misses page_created of a public page")
	}
	for _, e := range mevs {
		b, _ := json.Marshal(e.Payload)
		if e.Payload["pageId"] == secret.ID || strings.Contains(string(b), "Top secret") || strings.Contains(string(b), "classified") {
			t.Fatalf("member saw %s", b)
		}
	}
	if len(findEvents(evs, "page_updated", secret.ID)) != 1 {
		t.Fatal("owner misses the private page's update")
	}
}

func TestConcurrentMovesMakeNoCycle(t *testing.T) {
	env := apptest.Start(t)
	owner := env.Signup("Owner")
	d := env.CreateDrive(owner, "Drive")
	for round := 0; round < 5; round++ {
		a := env.CreatePage(owner, d, "FOLDER", "A", "")
		b := env.CreatePage(owner, d, "FOLDER", "B", "")
		var wg sync.WaitGroup
		status := make([]int, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, mv := range [][2]string{{a, b}, {b, a}} {
			wg.Add(1)
			go func(i int, page, parent string) {
				defer wg.Done()
				<-start
				status[i], _, errs[i] = env.Send("POST", "/api/pages/"+page+"/move", owner.Token, map[string]any{"parentId": parent, "position": 1})
			}(i, mv[0], mv[1])
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if !(status[0] == 200 && status[1] == 400 || status[0] == 400 && status[1] == 200) {
			t.Fatalf("round %d: statuses %v, want one 200 and one 400", round, status)
		}
		pa, pb := getPage(t, env, owner, a), getPage(t, env, owner, b)
		if pa.ParentID != nil && pb.ParentID != nil {
			t.Fatalf("cycle: A under %v, B under %v", *pa.ParentID, *pb.ParentID)
		}
	}
}

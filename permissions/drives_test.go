package permissions_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// call is one table-driven HTTP scenario.
type call struct {
	name   string
	method string
	path   string
	token  string
	body   any
	want   int
}

// codes maps statuses to the contract's error codes.
var codes = map[int]string{400: "invalid_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 413: "payload_too_large"}

func runCalls(t *testing.T, env *apptest.Env, calls []call) {
	t.Helper()
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			r := env.Do(c.method, c.path, c.token, c.body)
			if r.Status != c.want {
				t.Fatalf("%s %s: status %d, want %d; body %s", c.method, c.path, r.Status, c.want, r.Body)
			}
			if code, ok := codes[c.want]; ok && r.ErrorCode() != code && !(c.want == 401 && r.ErrorCode() == "invalid_token") {
				t.Fatalf("error code %q, want %q; body %s", r.ErrorCode(), code, r.Body)
			}
		})
	}
}

// badBodies are the malformed-body cases every JSON route must answer 400 (or 413).
func badBodies(method, path, token string) []call {
	return []call{
		{"no body", method, path, token, nil, 400},
		{"malformed", method, path, token, `{"name":`, 400},
		{"not an object", method, path, token, `[1]`, 400},
		{"unknown field", method, path, token, `{"name":"x","bogus":1}`, 400},
		{"trailing data", method, path, token, `{"name":"x"} {}`, 400},
		{"too large", method, path, token, `{"name":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
		{"no auth", method, path, "", map[string]any{"name": "x"}, 401},
		{"bad token", method, path, "not-a-token", map[string]any{"name": "x"}, 401},
	}
}

func TestCreateAndGetDrive(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	ada, bob := env.Signup("Ada"), env.Signup("Bob")

	r := env.Do("POST", "/api/drives", ada.Token, map[string]any{"name": "  Research  "}).Expect(201)
	var d struct {
		ID, Name, OwnerID, CreatedAt, UpdatedAt string
		Role                                    *string
	}
	r.JSON(&d)
	if d.ID == "" || d.Name != "Research" || d.OwnerID != ada.ID || d.Role == nil || *d.Role != "OWNER" {
		t.Fatalf("created drive: %s", r.Body)
	}
	if len(d.CreatedAt) != len("2006-01-02T15:04:05.000Z") || !strings.HasSuffix(d.UpdatedAt, "Z") {
		t.Fatalf("times must be RFC 3339 UTC with milliseconds: %s", r.Body)
	}
	got := env.Do("GET", "/api/drives/"+d.ID, ada.Token, nil).Expect(200).Map()
	if got["id"] != d.ID || got["role"] != "OWNER" || got["name"] != "Research" {
		t.Fatalf("get drive: %v", got)
	}
	members := env.Do("GET", "/api/drives/"+d.ID+"/members", ada.Token, nil).Expect(200).Map()["items"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["role"] != "OWNER" || members[0].(map[string]any)["userId"] != ada.ID {
		t.Fatalf("creator must be the OWNER member: %v", members)
	}

	calls := []call{
		{"missing name", "POST", "/api/drives", ada.Token, map[string]any{}, 400},
		{"null name", "POST", "/api/drives", ada.Token, `{"name":null}`, 400},
		{"blank name", "POST", "/api/drives", ada.Token, map[string]any{"name": "   "}, 400},
		{"long name", "POST", "/api/drives", ada.Token, map[string]any{"name": strings.Repeat("n", 101)}, 400},
		{"control chars", "POST", "/api/drives", ada.Token, map[string]any{"name": "a\x00b"}, 400},
		{"wrong type", "POST", "/api/drives", ada.Token, `{"name":5}`, 400},
		{"100 chars is fine", "POST", "/api/drives", ada.Token, map[string]any{"name": strings.Repeat("é", 100)}, 201},
		{"stranger gets 404", "GET", "/api/drives/" + d.ID, bob.Token, nil, 404},
		{"unknown id", "GET", "/api/drives/no-such-drive", ada.Token, nil, 404},
		{"NUL in id", "GET", "/api/drives/a%00b", ada.Token, nil, 404},
		{"bad UTF-8 in id", "GET", "/api/drives/%ff%fe", ada.Token, nil, 404},
		{"long id", "GET", "/api/drives/" + strings.Repeat("x", 500), ada.Token, nil, 404},
		{"get without auth", "GET", "/api/drives/" + d.ID, "", nil, 401},
		{"list without auth", "GET", "/api/drives", "", nil, 401},
	}
	calls = append(calls, badBodies("POST", "/api/drives", ada.Token)...)
	runCalls(t, env, calls)

	req, _ := http.NewRequest("POST", env.URL+"/api/drives", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer "+ada.Token)
	resp, err := env.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("text/plain body: status %d, want 400", resp.StatusCode)
	}
}

func TestListDrivesPaginates(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	ada, bob := env.Signup("Ada"), env.Signup("Bob")
	want := map[string]string{}
	for i := range 5 {
		want[env.CreateDrive(ada, fmt.Sprintf("Drive %d", i))] = "OWNER"
	}
	shared := env.CreateDrive(bob, "Bob's")
	env.AddMember(bob, shared, ada, "VIEWER")
	want[shared] = "VIEWER"
	env.CreateDrive(bob, "Bob's private") // not Ada's

	seen := map[string]string{}
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		path := "/api/drives?limit=2"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		var list struct {
			Items []struct {
				ID   string  `json:"id"`
				Role *string `json:"role"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		env.Do("GET", path, ada.Token, nil).Expect(200).JSON(&list)
		if len(list.Items) > 2 {
			t.Fatalf("limit ignored: %d items", len(list.Items))
		}
		for _, it := range list.Items {
			if _, dup := seen[it.ID]; dup {
				t.Fatalf("drive %s listed twice", it.ID)
			}
			seen[it.ID] = *it.Role
		}
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
	}
	if jsonString(seen) != jsonString(want) {
		t.Fatalf("listed %v, want %v", seen, want)
	}
	m := env.Do("GET", "/api/drives", ada.Token, nil).Expect(200).Map()
	if m["nextCursor"] != nil || len(m["items"].([]any)) != 6 {
		t.Fatalf("default page: %v", m)
	}
	runCalls(t, env, []call{
		{"limit 0", "GET", "/api/drives?limit=0", ada.Token, nil, 400},
		{"limit 201", "GET", "/api/drives?limit=201", ada.Token, nil, 400},
		{"limit not a number", "GET", "/api/drives?limit=x", ada.Token, nil, 400},
		{"bad cursor", "GET", "/api/drives?cursor=!!!", ada.Token, nil, 400},
		{"tampered cursor", "GET", "/api/drives?cursor=bm9wZQ", ada.Token, nil, 400},
		{"limit 200", "GET", "/api/drives?limit=200", ada.Token, nil, 200},
	})
	empty := env.Do("GET", "/api/drives", env.Signup("Nobody").Token, nil).Expect(200)
	if string(empty.Body) != `{"items":[],"nextCursor":null}`+"\n" {
		t.Fatalf("empty list: %q", empty.Body)
	}
}

func TestUpdateAndDeleteDrive(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	path := "/api/drives/" + c.Drive

	calls := []call{
		{"owner renames", "PATCH", path, c.Owner.Token, map[string]any{"name": "Renamed"}, 200},
		{"admin renames", "PATCH", path, c.Admin.Token, map[string]any{"name": "Renamed again"}, 200},
		{"empty patch changes nothing", "PATCH", path, c.Admin.Token, map[string]any{}, 200},
		{"member may not", "PATCH", path, c.Member.Token, map[string]any{"name": "x"}, 403},
		{"viewer may not", "PATCH", path, c.Viewer.Token, map[string]any{"name": "x"}, 403},
		{"outsider sees nothing", "PATCH", path, c.Outsider.Token, map[string]any{"name": "x"}, 404},
		{"unknown drive", "PATCH", "/api/drives/nope", c.Owner.Token, map[string]any{"name": "x"}, 404},
		{"null name", "PATCH", path, c.Owner.Token, `{"name":null}`, 400},
		{"blank name", "PATCH", path, c.Owner.Token, map[string]any{"name": ""}, 400},
		{"long name", "PATCH", path, c.Owner.Token, map[string]any{"name": strings.Repeat("x", 101)}, 400},
		{"admin may not delete", "DELETE", path, c.Admin.Token, nil, 403},
		{"member may not delete", "DELETE", path, c.Member.Token, nil, 403},
		{"outsider delete", "DELETE", path, c.Outsider.Token, nil, 404},
		{"delete unknown", "DELETE", "/api/drives/nope", c.Owner.Token, nil, 404},
		{"delete without auth", "DELETE", path, "", nil, 401},
	}
	calls = append(calls, badBodies("PATCH", path, c.Owner.Token)...)
	runCalls(t, env, calls)

	got := env.Do("GET", path, c.Viewer.Token, nil).Expect(200).Map()
	if got["name"] != "Renamed again" || got["role"] != "VIEWER" {
		t.Fatalf("after rename: %v", got)
	}

	// Deleting cascades to members, pages and grants.
	root := insertPage(t, env, c.Drive, "", false)
	child := insertPage(t, env, c.Drive, root, true)
	env.Grant(c.Owner, child, c.Outsider, true, false, false, false)
	env.Do("DELETE", path, c.Owner.Token, nil).Expect(204)
	env.Do("GET", path, c.Owner.Token, nil).Expect(404)
	env.Do("DELETE", path, c.Owner.Token, nil).Expect(404)
	for _, table := range []string{"drive_members", "pages"} {
		var n int64
		env.App.DB().Table(table).Where("drive_id = ?", c.Drive).Count(&n)
		if n != 0 {
			t.Fatalf("%s rows left after delete: %d", table, n)
		}
	}
	var n int64
	env.App.DB().Table("page_permissions").Where("page_id IN ?", []string{root, child}).Count(&n)
	if n != 0 {
		t.Fatalf("grants left after delete: %d", n)
	}
	list := env.Do("GET", "/api/drives", c.Outsider.Token, nil).Expect(200).Map()
	if len(list["items"].([]any)) != 0 {
		t.Fatalf("outsider still lists the deleted drive: %v", list)
	}
}

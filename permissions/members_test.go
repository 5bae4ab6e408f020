package permissions_test

import (
	"strings"
	"sync"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

type memberItem struct {
	UserID   string `json:"userId"`
	Name     string `json:"name"`
	Email    string `json:"email"`
	Role     string `json:"role"`
	JoinedAt string `json:"joinedAt"`
}

func roles(t *testing.T, env *apptest.Env, u apptest.User, driveID string) map[string]string {
	t.Helper()
	var list struct {
		Items []memberItem `json:"items"`
	}
	env.Do("GET", "/api/drives/"+driveID+"/members?limit=200", u.Token, nil).Expect(200).JSON(&list)
	out := map[string]string{}
	for _, m := range list.Items {
		out[m.UserID] = m.Role
	}
	return out
}

func TestListMembers(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	path := "/api/drives/" + c.Drive + "/members"

	// Pages of one, in join order: the owner first.
	var got []memberItem
	cursor := ""
	for range 10 {
		p := path + "?limit=1"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		var list struct {
			Items      []memberItem `json:"items"`
			NextCursor *string      `json:"nextCursor"`
		}
		env.Do("GET", p, c.Viewer.Token, nil).Expect(200).JSON(&list)
		got = append(got, list.Items...)
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
	}
	want := []apptest.User{c.Owner, c.Admin, c.Member, c.Viewer}
	wantRoles := []string{"OWNER", "ADMIN", "MEMBER", "VIEWER"}
	if len(got) != len(want) {
		t.Fatalf("members %s", jsonString(got))
	}
	for i, m := range got {
		if m.UserID != want[i].ID || m.Role != wantRoles[i] || m.Email != want[i].Email || m.Name != want[i].Name || !strings.HasSuffix(m.JoinedAt, "Z") {
			t.Fatalf("member %d = %+v, want %s %s", i, m, want[i].Name, wantRoles[i])
		}
	}

	// A grantee sees the drive but is no member.
	page := insertPage(t, env, c.Drive, "", false)
	grantee := env.Signup("Grantee")
	env.Grant(c.Owner, page, grantee, true, false, false, false)
	runCalls(t, env, []call{
		{"member lists", "GET", path, c.Member.Token, nil, 200},
		{"outsider", "GET", path, c.Outsider.Token, nil, 404},
		{"grantee sees the drive, not its members", "GET", path, grantee.Token, nil, 403},
		{"unknown drive", "GET", "/api/drives/nope/members", c.Owner.Token, nil, 404},
		{"no auth", "GET", path, "", nil, 401},
		{"bad limit", "GET", path + "?limit=-1", c.Owner.Token, nil, 400},
		{"empty cursor object", "GET", path + "?cursor=e30", c.Owner.Token, nil, 400},
		{"garbage cursor", "GET", path + "?cursor=***", c.Owner.Token, nil, 400},
	})
}

func TestAddMember(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	path := "/api/drives/" + c.Drive + "/members"
	newbie, other := env.Signup("Newbie"), env.Signup("Other")

	r := env.Do("POST", path, c.Admin.Token, map[string]any{"email": "  " + strings.ToUpper(newbie.Email) + " ", "role": "MEMBER"}).Expect(201)
	var m memberItem
	r.JSON(&m)
	if m.UserID != newbie.ID || m.Role != "MEMBER" || m.Email != newbie.Email || m.Name != "Newbie" || m.JoinedAt == "" {
		t.Fatalf("added: %s", r.Body)
	}
	env.Do("GET", "/api/drives/"+c.Drive, newbie.Token, nil).Expect(200)

	calls := []call{
		{"missing role", "POST", path, c.Owner.Token, map[string]any{"userId": other.ID}, 400},
		{"role OWNER", "POST", path, c.Owner.Token, map[string]any{"userId": other.ID, "role": "OWNER"}, 400},
		{"unknown role", "POST", path, c.Owner.Token, map[string]any{"userId": other.ID, "role": "SUPERUSER"}, 400},
		{"lowercase role", "POST", path, c.Owner.Token, map[string]any{"userId": other.ID, "role": "member"}, 400},
		{"role wrong type", "POST", path, c.Owner.Token, `{"userId":"x","role":1}`, 400},
		{"both email and userId", "POST", path, c.Owner.Token, map[string]any{"userId": other.ID, "email": other.Email, "role": "MEMBER"}, 400},
		{"neither", "POST", path, c.Owner.Token, map[string]any{"role": "MEMBER"}, 400},
		{"bad email", "POST", path, c.Owner.Token, map[string]any{"email": "not an email", "role": "MEMBER"}, 400},
		{"empty userId", "POST", path, c.Owner.Token, map[string]any{"userId": "", "role": "MEMBER"}, 400},
		{"NUL userId", "POST", path, c.Owner.Token, map[string]any{"userId": "a\x00b", "role": "MEMBER"}, 400},
		{"unknown email", "POST", path, c.Owner.Token, map[string]any{"email": "nobody@example.com", "role": "MEMBER"}, 404},
		{"unknown userId", "POST", path, c.Owner.Token, map[string]any{"userId": "nobody", "role": "MEMBER"}, 404},
		{"already a member", "POST", path, c.Owner.Token, map[string]any{"userId": c.Viewer.ID, "role": "MEMBER"}, 409},
		{"the owner is a member", "POST", path, c.Admin.Token, map[string]any{"userId": c.Owner.ID, "role": "ADMIN"}, 409},
		{"member may not add", "POST", path, c.Member.Token, map[string]any{"userId": other.ID, "role": "VIEWER"}, 403},
		{"viewer may not add", "POST", path, c.Viewer.Token, map[string]any{"userId": other.ID, "role": "VIEWER"}, 403},
		{"outsider", "POST", path, c.Outsider.Token, map[string]any{"userId": other.ID, "role": "VIEWER"}, 404},
		{"unknown drive", "POST", "/api/drives/nope/members", c.Owner.Token, map[string]any{"userId": other.ID, "role": "VIEWER"}, 404},
		{"owner adds an admin", "POST", path, c.Owner.Token, map[string]any{"userId": other.ID, "role": "ADMIN"}, 201},
	}
	calls = append(calls, badBodies("POST", path, c.Owner.Token)...)
	runCalls(t, env, calls)
	if got := roles(t, env, c.Owner, c.Drive)[other.ID]; got != "ADMIN" {
		t.Fatalf("other's role %q", got)
	}
}

func TestChangeRole(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	admin2 := env.Signup("Admin 2")
	env.AddMember(c.Owner, c.Drive, admin2, "ADMIN")
	p := func(u apptest.User) string { return "/api/drives/" + c.Drive + "/members/" + u.ID }
	role := func(r string) map[string]any { return map[string]any{"role": r} }

	r := env.Do("PATCH", p(c.Member), c.Owner.Token, role("VIEWER")).Expect(200)
	var m memberItem
	r.JSON(&m)
	if m.UserID != c.Member.ID || m.Role != "VIEWER" || m.Email != c.Member.Email {
		t.Fatalf("changed: %s", r.Body)
	}
	calls := []call{ // in order: each step sees the state the previous ones left
		{"admin raises a viewer", "PATCH", p(c.Member), c.Admin.Token, role("MEMBER"), 200},
		{"same role is a no-op", "PATCH", p(c.Member), c.Admin.Token, role("MEMBER"), 200},
		{"admin may not change another admin", "PATCH", p(admin2), c.Admin.Token, role("MEMBER"), 403},
		{"nobody changes the owner", "PATCH", p(c.Owner), c.Admin.Token, role("MEMBER"), 409},
		{"not even the owner", "PATCH", p(c.Owner), c.Owner.Token, role("ADMIN"), 409},
		{"role OWNER", "PATCH", p(c.Member), c.Owner.Token, role("OWNER"), 400},
		{"unknown role", "PATCH", p(c.Member), c.Owner.Token, role("GOD"), 400},
		{"missing role", "PATCH", p(c.Member), c.Owner.Token, map[string]any{}, 400},
		{"null role", "PATCH", p(c.Member), c.Owner.Token, `{"role":null}`, 400},
		{"member may not promote themself", "PATCH", p(c.Member), c.Member.Token, role("ADMIN"), 403},
		{"viewer may not change others", "PATCH", p(c.Member), c.Viewer.Token, role("VIEWER"), 403},
		{"outsider", "PATCH", p(c.Member), c.Outsider.Token, role("VIEWER"), 404},
		{"not a member", "PATCH", p(c.Outsider), c.Owner.Token, role("VIEWER"), 404},
		{"bogus user id", "PATCH", "/api/drives/" + c.Drive + "/members/%00", c.Owner.Token, role("VIEWER"), 404},
		{"unknown drive", "PATCH", "/api/drives/nope/members/" + c.Member.ID, c.Owner.Token, role("VIEWER"), 404},
		{"admin promotes a member to admin", "PATCH", p(c.Viewer), c.Admin.Token, role("ADMIN"), 200},
		{"owner demotes an admin", "PATCH", p(admin2), c.Owner.Token, role("VIEWER"), 200},
		{"admin lowers their own role", "PATCH", p(c.Admin), c.Admin.Token, role("MEMBER"), 200},
		{"and can no longer manage", "PATCH", p(admin2), c.Admin.Token, role("MEMBER"), 403},
	}
	calls = append(calls, badBodies("PATCH", p(c.Member), c.Owner.Token)...)
	runCalls(t, env, calls)
	want := map[string]string{c.Owner.ID: "OWNER", c.Admin.ID: "MEMBER", c.Member.ID: "MEMBER", c.Viewer.ID: "ADMIN", admin2.ID: "VIEWER"}
	if got := roles(t, env, c.Owner, c.Drive); jsonString(got) != jsonString(want) {
		t.Fatalf("roles %v, want %v", got, want)
	}
}

func TestRemoveMember(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	admin2, extra := env.Signup("Admin 2"), env.Signup("Extra")
	env.AddMember(c.Owner, c.Drive, admin2, "ADMIN")
	env.AddMember(c.Owner, c.Drive, extra, "VIEWER")
	p := func(u apptest.User) string { return "/api/drives/" + c.Drive + "/members/" + u.ID }

	runCalls(t, env, []call{ // in order
		{"viewer may not remove others", "DELETE", p(c.Member), c.Viewer.Token, nil, 403},
		{"member may not remove others", "DELETE", p(c.Viewer), c.Member.Token, nil, 403},
		{"admin may not remove another admin", "DELETE", p(admin2), c.Admin.Token, nil, 403},
		{"the owner cannot be removed", "DELETE", p(c.Owner), c.Admin.Token, nil, 409},
		{"nor leave", "DELETE", p(c.Owner), c.Owner.Token, nil, 409},
		{"outsider", "DELETE", p(c.Member), c.Outsider.Token, nil, 404},
		{"not a member", "DELETE", p(c.Outsider), c.Owner.Token, nil, 404},
		{"unknown drive", "DELETE", "/api/drives/nope/members/" + c.Member.ID, c.Owner.Token, nil, 404},
		{"no auth", "DELETE", p(c.Member), "", nil, 401},
		{"member leaves", "DELETE", p(c.Member), c.Member.Token, nil, 204},
		{"twice", "DELETE", p(c.Member), c.Owner.Token, nil, 404},
		{"admin removes a viewer", "DELETE", p(extra), c.Admin.Token, nil, 204},
		{"owner removes an admin", "DELETE", p(admin2), c.Owner.Token, nil, 204},
		{"admin leaves", "DELETE", p(c.Admin), c.Admin.Token, nil, 204},
	})
	for _, u := range []apptest.User{c.Member, extra, admin2, c.Admin} {
		env.Do("GET", "/api/drives/"+c.Drive, u.Token, nil).Expect(404)
	}
	want := map[string]string{c.Owner.ID: "OWNER", c.Viewer.ID: "VIEWER"}
	if got := roles(t, env, c.Owner, c.Drive); jsonString(got) != jsonString(want) {
		t.Fatalf("roles %v, want %v", got, want)
	}
}

// TestConcurrentWrites races writers on one row: exactly one add wins, the rest conflict, and
// concurrent grant upserts all succeed; nothing answers 500.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	page := insertPage(t, env, c.Drive, "", false)
	newbie := env.Signup("Newbie")
	const n = 8
	statuses := make(chan int, n)
	grants := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			statuses <- env.Do("POST", "/api/drives/"+c.Drive+"/members", c.Owner.Token, map[string]any{"userId": newbie.ID, "role": "VIEWER"}).Status
		}()
		go func() {
			defer wg.Done()
			grants <- env.Do("PUT", grantPath(page, c.Outsider), c.Admin.Token, rights(true, i%2 == 0, false, false)).Status
		}()
	}
	wg.Wait()
	close(statuses)
	close(grants)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != n-1 {
		t.Fatalf("member adds %v: want one 201 and %d 409", count, n-1)
	}
	// Upserts all succeed: 201 when they created the grant, 200 when they replaced it (two
	// racing creators may both report a create).
	gcount := map[int]int{}
	for s := range grants {
		gcount[s]++
	}
	if gcount[200]+gcount[201] != n || gcount[201] < 1 {
		t.Fatalf("grant upserts %v: want %d successes, at least one 201", gcount, n)
	}
}

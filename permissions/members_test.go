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
	c := newCrew(t, env)
	path := "/api/drives/" + c.drive + "/members"

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
		env.Do("GET", p, c.viewer.Token, nil).Expect(200).JSON(&list)
		got = append(got, list.Items...)
		if list.NextCursor == nil {
			break
		}
		cursor = *list.NextCursor
	}
	want := []apptest.User{c.owner, c.admin, c.member, c.viewer}
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
	page := insertPage(t, env, c.drive, "", false)
	grantee := env.Signup("Grantee")
	env.Grant(c.owner, page, grantee, true, false, false, false)
	runCalls(t, env, []call{
		{"member lists", "GET", path, c.member.Token, nil, 200},
		{"outsider", "GET", path, c.outsider.Token, nil, 404},
		{"grantee sees the drive, not its members", "GET", path, grantee.Token, nil, 403},
		{"unknown drive", "GET", "/api/drives/nope/members", c.owner.Token, nil, 404},
		{"no auth", "GET", path, "", nil, 401},
		{"bad limit", "GET", path + "?limit=-1", c.owner.Token, nil, 400},
		{"empty cursor object starts over", "GET", path + "?cursor=e30", c.owner.Token, nil, 200},
		{"garbage cursor", "GET", path + "?cursor=***", c.owner.Token, nil, 400},
	})
}

func TestAddMember(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := newCrew(t, env)
	path := "/api/drives/" + c.drive + "/members"
	newbie, other := env.Signup("Newbie"), env.Signup("Other")

	r := env.Do("POST", path, c.admin.Token, map[string]any{"email": "  " + strings.ToUpper(newbie.Email) + " ", "role": "MEMBER"}).Expect(201)
	var m memberItem
	r.JSON(&m)
	if m.UserID != newbie.ID || m.Role != "MEMBER" || m.Email != newbie.Email || m.Name != "Newbie" || m.JoinedAt == "" {
		t.Fatalf("added: %s", r.Body)
	}
	env.Do("GET", "/api/drives/"+c.drive, newbie.Token, nil).Expect(200)

	calls := []call{
		{"missing role", "POST", path, c.owner.Token, map[string]any{"userId": other.ID}, 400},
		{"role OWNER", "POST", path, c.owner.Token, map[string]any{"userId": other.ID, "role": "OWNER"}, 400},
		{"unknown role", "POST", path, c.owner.Token, map[string]any{"userId": other.ID, "role": "SUPERUSER"}, 400},
		{"lowercase role", "POST", path, c.owner.Token, map[string]any{"userId": other.ID, "role": "member"}, 400},
		{"role wrong type", "POST", path, c.owner.Token, `{"userId":"x","role":1}`, 400},
		{"both email and userId", "POST", path, c.owner.Token, map[string]any{"userId": other.ID, "email": other.Email, "role": "MEMBER"}, 400},
		{"neither", "POST", path, c.owner.Token, map[string]any{"role": "MEMBER"}, 400},
		{"bad email", "POST", path, c.owner.Token, map[string]any{"email": "not an email", "role": "MEMBER"}, 400},
		{"empty userId", "POST", path, c.owner.Token, map[string]any{"userId": "", "role": "MEMBER"}, 400},
		{"NUL userId", "POST", path, c.owner.Token, map[string]any{"userId": "a\x00b", "role": "MEMBER"}, 400},
		{"unknown email", "POST", path, c.owner.Token, map[string]any{"email": "nobody@example.com", "role": "MEMBER"}, 404},
		{"unknown userId", "POST", path, c.owner.Token, map[string]any{"userId": "nobody", "role": "MEMBER"}, 404},
		{"already a member", "POST", path, c.owner.Token, map[string]any{"userId": c.viewer.ID, "role": "MEMBER"}, 409},
		{"the owner is a member", "POST", path, c.admin.Token, map[string]any{"userId": c.owner.ID, "role": "ADMIN"}, 409},
		{"member may not add", "POST", path, c.member.Token, map[string]any{"userId": other.ID, "role": "VIEWER"}, 403},
		{"viewer may not add", "POST", path, c.viewer.Token, map[string]any{"userId": other.ID, "role": "VIEWER"}, 403},
		{"outsider", "POST", path, c.outsider.Token, map[string]any{"userId": other.ID, "role": "VIEWER"}, 404},
		{"unknown drive", "POST", "/api/drives/nope/members", c.owner.Token, map[string]any{"userId": other.ID, "role": "VIEWER"}, 404},
		{"owner adds an admin", "POST", path, c.owner.Token, map[string]any{"userId": other.ID, "role": "ADMIN"}, 201},
	}
	calls = append(calls, badBodies("POST", path, c.owner.Token)...)
	runCalls(t, env, calls)
	if got := roles(t, env, c.owner, c.drive)[other.ID]; got != "ADMIN" {
		t.Fatalf("other's role %q", got)
	}
}

func TestChangeRole(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := newCrew(t, env)
	admin2 := env.Signup("Admin 2")
	env.AddMember(c.owner, c.drive, admin2, "ADMIN")
	p := func(u apptest.User) string { return "/api/drives/" + c.drive + "/members/" + u.ID }
	role := func(r string) map[string]any { return map[string]any{"role": r} }

	r := env.Do("PATCH", p(c.member), c.owner.Token, role("VIEWER")).Expect(200)
	var m memberItem
	r.JSON(&m)
	if m.UserID != c.member.ID || m.Role != "VIEWER" || m.Email != c.member.Email {
		t.Fatalf("changed: %s", r.Body)
	}
	calls := []call{ // in order: each step sees the state the previous ones left
		{"admin raises a viewer", "PATCH", p(c.member), c.admin.Token, role("MEMBER"), 200},
		{"same role is a no-op", "PATCH", p(c.member), c.admin.Token, role("MEMBER"), 200},
		{"admin may not change another admin", "PATCH", p(admin2), c.admin.Token, role("MEMBER"), 403},
		{"nobody changes the owner", "PATCH", p(c.owner), c.admin.Token, role("MEMBER"), 409},
		{"not even the owner", "PATCH", p(c.owner), c.owner.Token, role("ADMIN"), 409},
		{"role OWNER", "PATCH", p(c.member), c.owner.Token, role("OWNER"), 400},
		{"unknown role", "PATCH", p(c.member), c.owner.Token, role("GOD"), 400},
		{"missing role", "PATCH", p(c.member), c.owner.Token, map[string]any{}, 400},
		{"null role", "PATCH", p(c.member), c.owner.Token, `{"role":null}`, 400},
		{"member may not promote themself", "PATCH", p(c.member), c.member.Token, role("ADMIN"), 403},
		{"viewer may not change others", "PATCH", p(c.member), c.viewer.Token, role("VIEWER"), 403},
		{"outsider", "PATCH", p(c.member), c.outsider.Token, role("VIEWER"), 404},
		{"not a member", "PATCH", p(c.outsider), c.owner.Token, role("VIEWER"), 404},
		{"bogus user id", "PATCH", "/api/drives/" + c.drive + "/members/%00", c.owner.Token, role("VIEWER"), 404},
		{"unknown drive", "PATCH", "/api/drives/nope/members/" + c.member.ID, c.owner.Token, role("VIEWER"), 404},
		{"admin promotes a member to admin", "PATCH", p(c.viewer), c.admin.Token, role("ADMIN"), 200},
		{"owner demotes an admin", "PATCH", p(admin2), c.owner.Token, role("VIEWER"), 200},
		{"admin lowers their own role", "PATCH", p(c.admin), c.admin.Token, role("MEMBER"), 200},
		{"and can no longer manage", "PATCH", p(admin2), c.admin.Token, role("MEMBER"), 403},
	}
	calls = append(calls, badBodies("PATCH", p(c.member), c.owner.Token)...)
	runCalls(t, env, calls)
	want := map[string]string{c.owner.ID: "OWNER", c.admin.ID: "MEMBER", c.member.ID: "MEMBER", c.viewer.ID: "ADMIN", admin2.ID: "VIEWER"}
	if got := roles(t, env, c.owner, c.drive); jsonString(got) != jsonString(want) {
		t.Fatalf("roles %v, want %v", got, want)
	}
}

func TestRemoveMember(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := newCrew(t, env)
	admin2, extra := env.Signup("Admin 2"), env.Signup("Extra")
	env.AddMember(c.owner, c.drive, admin2, "ADMIN")
	env.AddMember(c.owner, c.drive, extra, "VIEWER")
	p := func(u apptest.User) string { return "/api/drives/" + c.drive + "/members/" + u.ID }

	runCalls(t, env, []call{ // in order
		{"viewer may not remove others", "DELETE", p(c.member), c.viewer.Token, nil, 403},
		{"member may not remove others", "DELETE", p(c.viewer), c.member.Token, nil, 403},
		{"admin may not remove another admin", "DELETE", p(admin2), c.admin.Token, nil, 403},
		{"the owner cannot be removed", "DELETE", p(c.owner), c.admin.Token, nil, 409},
		{"nor leave", "DELETE", p(c.owner), c.owner.Token, nil, 409},
		{"outsider", "DELETE", p(c.member), c.outsider.Token, nil, 404},
		{"not a member", "DELETE", p(c.outsider), c.owner.Token, nil, 404},
		{"unknown drive", "DELETE", "/api/drives/nope/members/" + c.member.ID, c.owner.Token, nil, 404},
		{"no auth", "DELETE", p(c.member), "", nil, 401},
		{"member leaves", "DELETE", p(c.member), c.member.Token, nil, 204},
		{"twice", "DELETE", p(c.member), c.owner.Token, nil, 404},
		{"admin removes a viewer", "DELETE", p(extra), c.admin.Token, nil, 204},
		{"owner removes an admin", "DELETE", p(admin2), c.owner.Token, nil, 204},
		{"admin leaves", "DELETE", p(c.admin), c.admin.Token, nil, 204},
	})
	for _, u := range []apptest.User{c.member, extra, admin2, c.admin} {
		env.Do("GET", "/api/drives/"+c.drive, u.Token, nil).Expect(404)
	}
	want := map[string]string{c.owner.ID: "OWNER", c.viewer.ID: "VIEWER"}
	if got := roles(t, env, c.owner, c.drive); jsonString(got) != jsonString(want) {
		t.Fatalf("roles %v, want %v", got, want)
	}
}

// TestConcurrentWrites races writers on one row: exactly one add wins, the rest conflict, and
// concurrent grant upserts all succeed; nothing answers 500.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := newCrew(t, env)
	page := insertPage(t, env, c.drive, "", false)
	newbie := env.Signup("Newbie")
	const n = 8
	statuses := make(chan int, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			statuses <- env.Do("POST", "/api/drives/"+c.drive+"/members", c.owner.Token, map[string]any{"userId": newbie.ID, "role": "VIEWER"}).Status
		}()
		go func() {
			defer wg.Done()
			statuses <- env.Do("PUT", grantPath(page, c.outsider), c.admin.Token, rights(true, i%2 == 0, false, false)).Status
		}()
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[201] != 1 || count[409] != n-1 || count[200] != n {
		t.Fatalf("statuses %v: want one 201, %d 409 and %d 200", count, n-1, n)
	}
}

package permissions_test

import (
	"context"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/permissions"
)

// letters renders access as "VESD" with the rights held.
func letters(a permissions.Access) string {
	s := ""
	for _, r := range []struct {
		ok bool
		l  string
	}{{a.View, "V"}, {a.Edit, "E"}, {a.Share, "S"}, {a.Delete, "D"}} {
		if r.ok {
			s += r.l
		}
	}
	return s
}

// tree is the page chain every scenario builds: root R, its child A, and the page P under test.
type tree struct{ root, mid, page string }

// scenario is one row of the access matrix: how to set up the tree and grants (applied to
// every user, managers included, to show grants never lower them), and what a MEMBER, a
// VIEWER and a non-member then hold on P. OWNER and ADMIN always hold everything.
type scenario struct {
	name                   string
	private                [3]bool // root, mid, page
	setup                  func(t *testing.T, s *matrixRun, tr tree)
	member, viewer, others string
	trashed                bool
	outsiderSeesDrive      bool
}

type matrixRun struct {
	env *apptest.Env
	c   *apptest.World
}

func (m *matrixRun) everyone() []apptest.User {
	return []apptest.User{m.c.Owner, m.c.Admin, m.c.Member, m.c.Viewer, m.c.Outsider}
}

// grantAll puts the same grant on pageID for every user (expiresIn > 0 sets an expiry).
func (m *matrixRun) grantAll(t *testing.T, pageID string, view, edit, share, del bool, expiresIn time.Duration) {
	t.Helper()
	for _, u := range m.everyone() {
		body := rights(view, edit, share, del)
		if expiresIn > 0 {
			body["expiresAt"] = time.Now().Add(expiresIn).UTC().Format(time.RFC3339Nano)
		}
		if r := m.env.Do("PUT", grantPath(pageID, u), m.c.Owner.Token, body); r.Status != 200 && r.Status != 201 {
			t.Fatalf("grant: %d %s", r.Status, r.Body)
		}
	}
}

func (m *matrixRun) expireAll(t *testing.T, pageID string) {
	t.Helper()
	for _, u := range m.everyone() {
		expireGrant(t, m.env, pageID, u.ID)
	}
}

var matrix = []scenario{
	{name: "open page", member: "VE", viewer: "V", others: ""},
	{name: "private page", private: [3]bool{false, false, true}, member: "", viewer: "", others: ""},
	{name: "private ancestor", private: [3]bool{false, true, false}, member: "", viewer: "", others: ""},
	{name: "private root", private: [3]bool{true, false, false}, member: "", viewer: "", others: ""},
	{name: "view grant on the page overrides the role", member: "V", viewer: "V", others: "V", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) { m.grantAll(t, tr.page, true, false, false, false, 0) }},
	{name: "grant on a private ancestor", private: [3]bool{false, true, false}, member: "VE", viewer: "VE", others: "VE", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) { m.grantAll(t, tr.mid, true, true, false, false, 0) }},
	{name: "grant on the private page itself", private: [3]bool{false, false, true}, member: "VD", viewer: "VD", others: "VD", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) { m.grantAll(t, tr.page, true, false, false, true, 0) }},
	{name: "deny-all on the page under a permissive ancestor grant", member: "", viewer: "", others: "", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) {
			m.grantAll(t, tr.mid, true, true, true, true, 0)
			m.grantAll(t, tr.page, false, false, false, false, 0)
		}},
	{name: "grant on the page under a deny-all ancestor", member: "VS", viewer: "VS", others: "VS", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) {
			m.grantAll(t, tr.mid, false, false, false, false, 0)
			m.grantAll(t, tr.page, true, false, true, false, 0)
		}},
	{name: "nearest ancestor grant wins over the root's", member: "V", viewer: "V", others: "V", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) {
			m.grantAll(t, tr.root, true, true, true, true, 0)
			m.grantAll(t, tr.mid, true, false, false, false, 0)
		}},
	{name: "a grant above a private page decides", private: [3]bool{false, false, true}, member: "V", viewer: "V", others: "V", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) { m.grantAll(t, tr.root, true, false, false, false, 0) }},
	{name: "grant expiring later counts", member: "VE", viewer: "VE", others: "VE", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) { m.grantAll(t, tr.page, true, true, false, false, time.Hour) }},
	{name: "expired grant on a private page is absent", private: [3]bool{false, false, true}, member: "", viewer: "", others: "",
		setup: func(t *testing.T, m *matrixRun, tr tree) {
			m.grantAll(t, tr.page, true, true, false, false, time.Hour)
			m.expireAll(t, tr.page)
		}},
	{name: "expired grant on an ancestor is absent", member: "VE", viewer: "V", others: "",
		setup: func(t *testing.T, m *matrixRun, tr tree) {
			m.grantAll(t, tr.mid, true, true, true, true, time.Hour)
			m.expireAll(t, tr.mid)
		}},
	{name: "expired deny-all is absent", member: "VE", viewer: "V", others: "",
		setup: func(t *testing.T, m *matrixRun, tr tree) {
			m.grantAll(t, tr.page, false, false, false, false, time.Hour)
			m.expireAll(t, tr.page)
		}},
	{name: "expired nearest grant falls back to the next", member: "V", viewer: "V", others: "V", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) {
			m.grantAll(t, tr.root, true, false, false, false, 0)
			m.grantAll(t, tr.page, true, true, true, true, time.Hour)
			m.expireAll(t, tr.page)
		}},
	{name: "trashed open page", trashed: true, member: "VE", viewer: "V", others: ""},
	{name: "trashed private page", trashed: true, private: [3]bool{false, false, true}, member: "", viewer: "", others: ""},
	// A grantee of a page in the trash still sees the drive (its trash, the page's events).
	{name: "trashed page with a grant", trashed: true, member: "V", viewer: "V", others: "V", outsiderSeesDrive: true,
		setup: func(t *testing.T, m *matrixRun, tr tree) { m.grantAll(t, tr.page, true, false, false, false, 0) }},
}

// TestAccessMatrix checks the resolution rules through the resolver (Page and Drive, which must
// agree on every page) and, once the pages package serves its routes, through GET and PATCH
// /api/pages/{id}.
func TestAccessMatrix(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	m := &matrixRun{env: env, c: env.NewWorld()}
	c := m.c
	res := resolver(env)
	ctx := context.Background()
	roles := []struct {
		user apptest.User
		want func(s scenario) string
		role permissions.Role
	}{
		{c.Owner, func(scenario) string { return "VESD" }, permissions.RoleOwner},
		{c.Admin, func(scenario) string { return "VESD" }, permissions.RoleAdmin},
		{c.Member, func(s scenario) string { return s.member }, permissions.RoleMember},
		{c.Viewer, func(s scenario) string { return s.viewer }, permissions.RoleViewer},
		{c.Outsider, func(s scenario) string { return s.others }, permissions.NoRole},
	}
	for _, s := range matrix {
		t.Run(s.name, func(t *testing.T) {
			drive := otherDrive(t, c, s.name)
			var tr tree
			tr.root = insertPage(t, env, drive, "", s.private[0])
			tr.mid = insertPage(t, env, drive, tr.root, s.private[1])
			tr.page = insertPage(t, env, drive, tr.mid, s.private[2])
			if s.setup != nil {
				s.setup(t, m, tr)
			}
			if s.trashed {
				trashPage(t, env, tr.page)
			}
			for _, r := range roles {
				want := r.want(s)
				pa, err := res.Page(ctx, r.user.ID, tr.page)
				if err != nil {
					t.Fatal(err)
				}
				if got := letters(pa.Access); got != want || pa.Role != r.role || pa.Trashed != s.trashed || pa.DriveID != drive {
					t.Errorf("%s: Page = %q (role %q, trashed %v), want %q", r.user.Name, got, pa.Role, pa.Trashed, want)
				}
				dv, err := res.Drive(ctx, r.user.ID, drive)
				if err != nil {
					t.Fatal(err)
				}
				for _, id := range []string{tr.root, tr.mid, tr.page} {
					one, err := res.Page(ctx, r.user.ID, id)
					if err != nil {
						t.Fatal(err)
					}
					all := dv.Pages[id]
					if all.Access != one.Access || all.Trashed != one.Trashed || !sameTime(all.Until, one.Until) || all.Role != one.Role {
						t.Errorf("%s: Drive and Page disagree on %s: %+v vs %+v", r.user.Name, id, all, one)
					}
				}
				if !s.trashed {
					checkPageHTTP(t, env, r.user, tr.page, want)
				}
			}
			st := env.Do("GET", "/api/drives/"+drive, c.Outsider.Token, nil).Status
			if (st == 200) != s.outsiderSeesDrive {
				t.Errorf("GET drive as the non-member: %d, want visible=%v", st, s.outsiderSeesDrive)
			}
		})
	}
}

func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// checkPageHTTP observes access through the pages routes: 404 without view, 403 on PATCH
// without edit.
func checkPageHTTP(t *testing.T, env *apptest.Env, u apptest.User, pageID, want string) {
	t.Helper()
	view, edit := want != "", len(want) > 1 && want[1] == 'E'
	get := env.Do("GET", "/api/pages/"+pageID, u.Token, nil)
	if (get.Status == 200) != view || (!view && get.Status != 404) {
		t.Errorf("%s: GET page %d, want view=%v; %s", u.Name, get.Status, view, get.Body)
	}
	patch := env.Do("PATCH", "/api/pages/"+pageID, u.Token, map[string]any{"title": "Renamed by " + u.Name})
	wantPatch := 200
	switch {
	case !view:
		wantPatch = 404
	case !edit:
		wantPatch = 403
	}
	if patch.Status != wantPatch {
		t.Errorf("%s: PATCH page %d, want %d; %s", u.Name, patch.Status, wantPatch, patch.Body)
	}
}

// TestAccessThroughPagesAPI builds the tree through the pages routes and
// follows one member's access as the page turns private and a grant is given and revoked.
func TestAccessThroughPagesAPI(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	folder := env.CreatePage(c.Owner, c.Drive, "FOLDER", "Folder", "")
	doc := env.CreatePage(c.Member, c.Drive, "DOCUMENT", "Doc", folder)
	checkPageHTTP(t, env, c.Member, doc, "VE")
	checkPageHTTP(t, env, c.Viewer, doc, "V")
	env.Do("PATCH", "/api/pages/"+folder, c.Admin.Token, map[string]any{"isPrivate": true}).Expect(200)
	checkPageHTTP(t, env, c.Member, doc, "")
	checkPageHTTP(t, env, c.Viewer, doc, "")
	env.Grant(c.Admin, doc, c.Viewer, true, true, false, false)
	checkPageHTTP(t, env, c.Viewer, doc, "VE")
	checkPageHTTP(t, env, c.Member, doc, "")
	env.Do("DELETE", grantPath(doc, c.Viewer), c.Owner.Token, nil).Expect(204)
	checkPageHTTP(t, env, c.Viewer, doc, "")
	checkPageHTTP(t, env, c.Admin, doc, "VESD")
}

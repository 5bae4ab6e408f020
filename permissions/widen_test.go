package permissions_test

import (
	"context"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// TestMoveWidens checks, rule by rule, when moving page P from under folder A to under folder
// B (or the root) lets someone see P who cannot see it now: the moves that need the share
// right on P.
func TestMoveWidens(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	w := env.NewWorld()
	res := resolver(env)
	cases := []struct {
		name             string
		fromPriv, toPriv bool
		toRoot           bool
		setup            func(t *testing.T, from, to, page string)
		want             bool
	}{
		{name: "public to public", want: false},
		{name: "private to public", fromPriv: true, want: true},
		{name: "private to the root", fromPriv: true, toRoot: true, want: true},
		{name: "private to private", fromPriv: true, toPriv: true, want: false},
		{name: "public to private", toPriv: true, want: false},
		{name: "the page itself private", want: false,
			setup: func(t *testing.T, _, _, page string) { setPrivate(t, env, page) }},
		{name: "to a folder shared with a non-member", want: true,
			setup: func(t *testing.T, _, to, _ string) { env.Grant(w.Owner, to, w.Outsider, true, false, false, false) }},
		{name: "to a private folder shared with a non-member", toPriv: true, want: true,
			setup: func(t *testing.T, _, to, _ string) { env.Grant(w.Owner, to, w.Outsider, true, false, false, false) }},
		{name: "between folders shared with the same user", fromPriv: true, toPriv: true, want: false,
			setup: func(t *testing.T, from, to, _ string) {
				env.Grant(w.Owner, from, w.Outsider, true, false, false, false)
				env.Grant(w.Owner, to, w.Outsider, true, true, false, false)
			}},
		{name: "out of a deny-all folder", want: true,
			setup: func(t *testing.T, from, _, _ string) { env.Grant(w.Owner, from, w.Viewer, false, false, false, false) }},
		{name: "into a deny-all folder", want: false,
			setup: func(t *testing.T, _, to, _ string) { env.Grant(w.Owner, to, w.Viewer, false, false, false, false) }},
		{name: "a private page shared with a non-member", fromPriv: true, want: false,
			setup: func(t *testing.T, _, _, page string) {
				setPrivate(t, env, page)
				env.Grant(w.Owner, page, w.Outsider, true, false, false, false)
			}},
		{name: "members see it only without grants", fromPriv: true, want: true,
			setup: func(t *testing.T, _, _, page string) {
				// Every member holds a deny grant, but a member who joins later would see it.
				env.Grant(w.Owner, page, w.Viewer, false, false, false, false)
				env.Grant(w.Owner, page, w.Member, false, false, false, false)
			}},
		{name: "to a folder with an expired grant", toPriv: true, want: false,
			setup: func(t *testing.T, _, to, _ string) {
				env.Grant(w.Owner, to, w.Outsider, true, false, false, false)
				expireGrant(t, env, to, w.Outsider.ID)
			}},
		{name: "to a folder a manager is denied", want: false,
			setup: func(t *testing.T, _, to, _ string) { env.Grant(w.Owner, to, w.Admin, false, false, false, false) }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			from := insertPage(t, env, w.Drive, "", c.fromPriv)
			to := insertPage(t, env, w.Drive, "", c.toPriv)
			page := insertPage(t, env, w.Drive, from, false)
			if c.setup != nil {
				c.setup(t, from, to, page)
			}
			var dest *string
			if !c.toRoot {
				dest = &to
			}
			got, err := res.MoveWidens(context.Background(), page, dest)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("MoveWidens = %v, want %v", got, c.want)
			}
		})
	}
	if _, err := res.MoveWidens(context.Background(), "no-such-page", nil); err == nil {
		t.Error("MoveWidens of an unknown page: no error")
	}
}

// setPrivate marks a page private, as the pages package would.
func setPrivate(t *testing.T, env *apptest.Env, pageID string) {
	t.Helper()
	if err := env.App.DB().Table("pages").Where("id = ?", pageID).Update("is_private", true).Error; err != nil {
		t.Fatal(err)
	}
}

package permissions_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

var errRollback = errors.New("rollback")

// countLogger counts the statements a session runs.
type countLogger struct{ n atomic.Int64 }

func (l *countLogger) LogMode(logger.LogLevel) logger.Interface      { return l }
func (l *countLogger) Info(context.Context, string, ...interface{})  {}
func (l *countLogger) Warn(context.Context, string, ...interface{})  {}
func (l *countLogger) Error(context.Context, string, ...interface{}) {}
func (l *countLogger) Trace(context.Context, time.Time, func() (string, int64), error) {
	l.n.Add(1)
}

// counted returns a resolver whose statements are counted.
func counted(env *apptest.Env) (*permissions.Resolver, *countLogger) {
	l := &countLogger{}
	return permissions.NewResolver(env.App.DB().Session(&gorm.Session{Logger: l})), l
}

// insertTree writes n pages into the drive in one statement: chains of depth 10, every third
// page private. It returns the ids, parents first.
func insertTree(t *testing.T, env *apptest.Env, driveID string, n int) []string {
	t.Helper()
	now := modules.Now()
	ids := make([]string, n)
	rows := make([]map[string]any, n)
	for i := range n {
		ids[i] = modules.NewID()
		row := map[string]any{"id": ids[i], "drive_id": driveID, "title": fmt.Sprintf("P%d", i), "type": "DOCUMENT",
			"position": float64(i), "is_private": i%3 == 1, "content": "", "revision": 1, "created_at": now, "updated_at": now,
			"parent_id": nil}
		if i%10 != 0 {
			row["parent_id"] = ids[i-1]
		}
		rows[i] = row
	}
	if err := env.App.DB().Table("pages").CreateInBatches(rows, 100).Error; err != nil {
		t.Fatalf("insert tree: %v", err)
	}
	return ids
}

func TestResolverQueriesAreBounded(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	small, large := c.Drive, otherDrive(t, c, "Large")
	smallIDs := insertTree(t, env, small, 10)
	largeIDs := insertTree(t, env, large, 300)
	// Grants spread over the large tree, for the member and the outsider.
	for i := 5; i < 300; i += 37 {
		env.Grant(c.Owner, largeIDs[i], c.Member, true, i%2 == 0, false, false)
		env.Grant(c.Owner, largeIDs[i], c.Outsider, true, false, false, false)
	}
	env.Grant(c.Owner, smallIDs[3], c.Member, true, false, false, false)

	ctx := context.Background()
	for _, u := range []apptest.User{c.Owner, c.Member, c.Viewer, c.Outsider} {
		r, l := counted(env)
		view, err := r.Drive(ctx, u.ID, small)
		if err != nil {
			t.Fatal(err)
		}
		smallQueries := l.n.Swap(0)
		view2, err := r.Drive(ctx, u.ID, large)
		if err != nil {
			t.Fatal(err)
		}
		largeQueries := l.n.Load()
		if len(view.Pages) != 10 || len(view2.Pages) != 300 {
			t.Fatalf("resolved %d and %d pages", len(view.Pages), len(view2.Pages))
		}
		if largeQueries != smallQueries || largeQueries > 3 || largeQueries < 2 {
			t.Errorf("%s: Drive ran %d statements on 10 pages and %d on 300; want the same, at most 3", u.Name, smallQueries, largeQueries)
		}
		// Page and PageOfType are one statement, on a page at depth 9 as on a root.
		l.n.Store(0)
		if _, err := r.Page(ctx, u.ID, largeIDs[9]); err != nil {
			t.Fatal(err)
		}
		if n := l.n.Load(); n != 1 {
			t.Errorf("%s: Page ran %d statements, want 1", u.Name, n)
		}
		l.n.Store(0)
		if _, err := r.PageOfType(ctx, u.ID, largeIDs[9], "DOCUMENT"); err != nil && !errors.Is(err, permissions.ErrPageNotFound) && !errors.Is(err, permissions.ErrWrongPageType) {
			t.Fatal(err)
		}
		if n := l.n.Load(); n != 1 {
			t.Errorf("%s: PageOfType ran %d statements, want 1", u.Name, n)
		}
		// Both agree across the large tree (a sample, to keep the test quick).
		plain := resolver(env)
		for i := 0; i < len(largeIDs); i += 7 {
			id := largeIDs[i]
			one, err := plain.Page(ctx, u.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			if all := view2.Pages[id]; all.Access != one.Access || all.Trashed != one.Trashed {
				t.Fatalf("%s: Drive and Page disagree on %s: %+v vs %+v", u.Name, id, all, one)
			}
		}
	}
}

func TestResolverBasics(t *testing.T) {
	t.Parallel()
	env := apptest.Start(t)
	c := env.NewWorld()
	ctx := context.Background()
	r := resolver(env)
	if _, err := r.Page(ctx, c.Owner.ID, "no-such-page"); err != permissions.ErrPageNotFound {
		t.Fatalf("unknown page: %v", err)
	}
	for u, want := range map[string]permissions.Role{c.Owner.ID: permissions.RoleOwner, c.Viewer.ID: permissions.RoleViewer, c.Outsider.ID: permissions.NoRole} {
		got, err := r.Role(ctx, u, c.Drive)
		if err != nil || got != want {
			t.Fatalf("Role = %q, %v; want %q", got, err, want)
		}
	}
	dv, err := r.Drive(ctx, c.Outsider.ID, "no-such-drive")
	if err != nil || len(dv.Pages) != 0 || dv.Role != permissions.NoRole {
		t.Fatalf("unknown drive: %+v, %v", dv, err)
	}
	// Until tells when the deciding grant ends.
	page := insertPage(t, env, c.Drive, "", false)
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	body := rights(true, false, false, false)
	body["expiresAt"] = until.Format(time.RFC3339Nano)
	env.Do("PUT", grantPath(page, c.Outsider), c.Owner.Token, body).Expect(201)
	pa, err := r.Page(ctx, c.Outsider.ID, page)
	if err != nil || pa.Until == nil || !pa.Until.Equal(until) || !pa.View {
		t.Fatalf("expiring grant: %+v, %v", pa, err)
	}
	// In reads through a transaction: a grant written in it counts before commit.
	other := insertPage(t, env, c.Drive, "", true)
	err = env.App.DB().Transaction(func(tx *gorm.DB) error {
		now := modules.Now()
		g := permissions.Grant{PageID: other, UserID: c.Viewer.ID, CanView: true, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&g).Error; err != nil {
			return err
		}
		pa, err := r.In(tx).Page(ctx, c.Viewer.ID, other)
		if err != nil || !pa.View {
			t.Errorf("In(tx) does not see the grant: %+v, %v", pa, err)
		}
		return errRollback
	})
	if err != errRollback {
		t.Fatal(err)
	}
	if pa, _ := r.Page(ctx, c.Viewer.ID, other); pa.View {
		t.Fatal("rolled-back grant still counts")
	}
}

package permissions_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/permissions"
)

// crew is a drive with one user of every relation to it.
type crew struct {
	env                                    *apptest.Env
	drive                                  string
	owner, admin, member, viewer, outsider apptest.User
}

// newCrew signs up five users and makes a drive with owner, admin, member and viewer.
func newCrew(t *testing.T, env *apptest.Env) crew {
	t.Helper()
	c := crew{env: env,
		owner: env.Signup("Owner"), admin: env.Signup("Admin"), member: env.Signup("Member"),
		viewer: env.Signup("Viewer"), outsider: env.Signup("Outsider")}
	c.drive = env.CreateDrive(c.owner, "Crew drive")
	env.AddMember(c.owner, c.drive, c.admin, "ADMIN")
	env.AddMember(c.owner, c.drive, c.member, "MEMBER")
	env.AddMember(c.owner, c.drive, c.viewer, "VIEWER")
	return c
}

// otherDrive makes a drive for the existing users of c, with the same roles.
func (c crew) otherDrive(t *testing.T, name string) string {
	t.Helper()
	id := c.env.CreateDrive(c.owner, name)
	c.env.AddMember(c.owner, id, c.admin, "ADMIN")
	c.env.AddMember(c.owner, id, c.member, "MEMBER")
	c.env.AddMember(c.owner, id, c.viewer, "VIEWER")
	return id
}

// insertPage writes a page row directly (the pages package owns the routes), returning its id.
func insertPage(t testing.TB, env *apptest.Env, driveID, parentID string, private bool) string {
	t.Helper()
	id := modules.NewID()
	now := modules.Now()
	row := map[string]any{"id": id, "drive_id": driveID, "title": "Page " + id[len(id)-6:], "type": "DOCUMENT",
		"position": 1.0, "is_private": private, "content": "", "revision": 1, "created_at": now, "updated_at": now}
	if parentID != "" {
		row["parent_id"] = parentID
	}
	if err := env.App.DB().Table("pages").Create(row).Error; err != nil {
		t.Fatalf("insert page: %v", err)
	}
	return id
}

// trashPage marks a page trashed, as the pages package would.
func trashPage(t testing.TB, env *apptest.Env, pageID string) {
	t.Helper()
	now := modules.Now()
	if err := env.App.DB().Table("pages").Where("id = ?", pageID).
		Updates(map[string]any{"trashed_at": now, "trash_root_id": pageID}).Error; err != nil {
		t.Fatalf("trash page: %v", err)
	}
}

// expireGrant moves a grant's expiry into the past, simulating the passage of time.
func expireGrant(t testing.TB, env *apptest.Env, pageID, userID string) {
	t.Helper()
	res := env.App.DB().Table("page_permissions").Where("page_id = ? AND user_id = ?", pageID, userID).
		Update("expires_at", modules.Now().Add(-time.Minute))
	if res.Error != nil || res.RowsAffected != 1 {
		t.Fatalf("expire grant: %v (rows %d)", res.Error, res.RowsAffected)
	}
}

// rights builds a PUT body.
func rights(view, edit, share, del bool) map[string]any {
	return map[string]any{"canView": view, "canEdit": edit, "canShare": share, "canDelete": del}
}

// pagesReady reports whether the pages package serves its routes yet (it is built concurrently).
func pagesReady(t testing.TB, env *apptest.Env, u apptest.User) bool {
	t.Helper()
	r := env.Do("GET", "/api/pages/"+modules.NewID(), u.Token, nil)
	return !(r.Status == 404 && r.Map()["error"].(map[string]any)["message"] == "route not found")
}

// latestEvent is the newest event id.
func latestEvent(t testing.TB, env *apptest.Env) int64 {
	t.Helper()
	id, err := env.App.Events().Latest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type event struct {
	EventID string         `json:"eventId"`
	Type    string         `json:"type"`
	Payload map[string]any `json:"payload"`
}

// eventsAfter is what GET /api/events shows u after the event id.
func eventsAfter(t testing.TB, env *apptest.Env, u apptest.User, after int64) []event {
	t.Helper()
	var out struct {
		Items []event `json:"items"`
	}
	env.Do("GET", "/api/events?limit=200&after="+strconv.FormatInt(after, 10), u.Token, nil).Expect(200).JSON(&out)
	return out.Items
}

// findEvent returns the first event of typ, or nil.
func findEvent(events []event, typ string) *event {
	for i := range events {
		if events[i].Type == typ {
			return &events[i]
		}
	}
	return nil
}

// jsonString renders v for failure messages.
func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func resolver(env *apptest.Env) *permissions.Resolver { return permissions.NewResolver(env.App.DB()) }

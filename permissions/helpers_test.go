package permissions_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/permissions"
)

// otherDrive makes a drive for the existing users of w, with the same roles.
func otherDrive(t *testing.T, w *apptest.World, name string) string {
	t.Helper()
	id := w.Env.CreateDrive(w.Owner, name)
	w.Env.AddMember(w.Owner, id, w.Admin, "ADMIN")
	w.Env.AddMember(w.Owner, id, w.Member, "MEMBER")
	w.Env.AddMember(w.Owner, id, w.Viewer, "VIEWER")
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

// findEvent returns the first event of typ, or nil.
func findEvent(events []apptest.Event, typ string) *apptest.Event {
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

package permissions

import (
	"context"

	"github.com/pagespace/pagespace/modules"
)

// The rules of who may see what, each written once; the REST listings, the event feed and the
// realtime broker all ask them. What differs between them is only whether a page in the trash
// counts, decided here once: a page in the trash is still seen by those who may view it (events
// about it reach them, and its drive stays visible to them, so that a grantee can find it in
// the trash and hears when it comes back), but it cannot be opened (its room, its content, its
// messages and tasks, its place in the tree).

// CanOpen reports whether the page may be opened: the user may view it and it is not in the
// trash.
func (pa PageAccess) CanOpen() bool { return pa.View && !pa.Trashed }

// CanOpen reports whether the user of v may open pageID (PageAccess.CanOpen).
func (v DriveView) CanOpen(pageID string) bool { return v.Pages[pageID].CanOpen() }

// SeesPage reports whether the user of v may know that pageID exists, as an event about it
// tells: they may view it, in the trash or not, or it is gone for good and they manage the drive.
func (v DriveView) SeesPage(pageID string) bool {
	if pa, ok := v.Pages[pageID]; ok {
		return pa.View
	}
	return v.Role.Manages()
}

// SeesDrive reports whether the user of v may know that the drive exists: a member, or someone
// who may view one of its pages, in the trash or not (a grantee). It decides GET
// /api/drives/{id}, the tree and trash listings and the drive's room; granteesSQL is the same
// rule for many drives or users at once (the drive list, a drive event's audience).
func (v DriveView) SeesDrive() bool {
	if v.Role != NoRole {
		return true
	}
	for _, pa := range v.Pages {
		if pa.View {
			return true
		}
	}
	return false
}

// MayJoin reports whether the user of v may be in room, a room of v's drive: the drive's room
// when they see the drive, a page's room when they may open the page.
func (v DriveView) MayJoin(room modules.Room) bool {
	switch room.Kind {
	case modules.RoomDrive:
		return room.ID == v.DriveID && v.SeesDrive()
	case modules.RoomPage:
		return v.CanOpen(room.ID)
	}
	return false
}

// granteesSQL selects (drive_id, user_id) of the grants that let a non-member see a drive
// (SeesDrive): active, with at least one right, on a page of the drive, in the trash or not. It
// expects the time.
const granteesSQL = `SELECT p.drive_id, pp.user_id FROM page_permissions pp JOIN pages p ON p.id = pp.page_id
	WHERE (pp.can_view OR pp.can_edit OR pp.can_share OR pp.can_delete)
	AND (pp.expires_at IS NULL OR pp.expires_at > ?)`

// Views returns userID's drive resolutions for one reader (a request): each drive is resolved
// once, on first use. It is not safe for concurrent use.
func (r *Resolver) Views(userID string) DriveLookup {
	views := map[string]DriveView{}
	return func(ctx context.Context, driveID string) (DriveView, error) {
		if v, ok := views[driveID]; ok {
			return v, nil
		}
		v, err := r.Drive(ctx, userID, driveID)
		if err != nil {
			return DriveView{}, err
		}
		views[driveID] = v
		return v, nil
	}
}

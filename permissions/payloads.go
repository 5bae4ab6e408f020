package permissions

import (
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// Event names of the package. Every payload also carries eventId, type, at, actorId, driveId
// and, for grant events, pageId, which the event log adds. The member and grant events,
// drive_created (its creator's membership) and drive_deleted change who may see what: their
// drafts carry it (eventlog.Access), for the realtime layer to apply.
const (
	// EventDriveCreated goes to the drive room and the creator's user room.
	EventDriveCreated = "drive_created"
	// EventDriveUpdated goes to the drive room, every member's and every grantee's user room.
	EventDriveUpdated = "drive_updated"
	// EventDriveDeleted goes to the drive room, every member's and every grantee's user room.
	// Everyone in it lost access to the drive and all its pages.
	EventDriveDeleted = "drive_deleted"
	// EventMemberAdded goes to the drive room and the new member's user room.
	EventMemberAdded = "member_added"
	// EventMemberRemoved goes to the drive room and the removed member's user room. It revokes:
	// UserID lost the access the membership gave.
	EventMemberRemoved = "member_removed"
	// EventMemberRoleChanged goes to the drive room and the member's user room. AccessReduced
	// tells whether the new role is weaker.
	EventMemberRoleChanged = "member_role_changed"
	// EventPermissionGranted goes to the page room, the drive room and the grantee's user room.
	// A grant may narrow access (a deny grant, a right removed, an earlier expiry): AccessReduced
	// tells clients so.
	EventPermissionGranted = "permission_granted"
	// EventPermissionRevoked goes to the page room, the drive room and the grantee's user room.
	EventPermissionRevoked = "permission_revoked"
)

// DriveEventDrive is the drive inside drive events; it has no role, which is per user.
type DriveEventDrive struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	OwnerID   string       `json:"ownerId"`
	CreatedAt modules.Time `json:"createdAt"`
	UpdatedAt modules.Time `json:"updatedAt"`
}

// DriveCreatedPayload is the payload of drive_created.
type DriveCreatedPayload struct {
	Drive DriveEventDrive `json:"drive"`
}

// DriveUpdatedPayload is the payload of drive_updated.
type DriveUpdatedPayload struct {
	Drive DriveEventDrive `json:"drive"`
}

// DriveDeletedPayload is the payload of drive_deleted. UserIDs are the members and grantees who
// lost access.
type DriveDeletedPayload struct {
	Drive   DriveEventDrive `json:"drive"`
	UserIDs []string        `json:"userIds"`
}

// EventMember is the member inside member events.
type EventMember struct {
	UserID string `json:"userId"`
	Name   string `json:"name"`
	Role   Role   `json:"role"`
}

// MemberAddedPayload is the payload of member_added.
type MemberAddedPayload struct {
	UserID string      `json:"userId"`
	Member EventMember `json:"member"`
}

// MemberRemovedPayload is the payload of member_removed; Member.Role is the role the member had.
type MemberRemovedPayload struct {
	UserID        string      `json:"userId"`
	Member        EventMember `json:"member"`
	AccessReduced bool        `json:"accessReduced"` // always true
}

// MemberRoleChangedPayload is the payload of member_role_changed.
type MemberRoleChangedPayload struct {
	UserID        string      `json:"userId"`
	Member        EventMember `json:"member"`
	PreviousRole  Role        `json:"previousRole"`
	AccessReduced bool        `json:"accessReduced"`
}

// EventPermission is the grant inside permission events. It carries the grantee's name but
// not their email, since page viewers receive it.
type EventPermission struct {
	PageID    string        `json:"pageId"`
	UserID    string        `json:"userId"`
	Name      string        `json:"name"`
	CanView   bool          `json:"canView"`
	CanEdit   bool          `json:"canEdit"`
	CanShare  bool          `json:"canShare"`
	CanDelete bool          `json:"canDelete"`
	ExpiresAt *modules.Time `json:"expiresAt"`
	GrantedBy *string       `json:"grantedBy"`
	CreatedAt modules.Time  `json:"createdAt"`
	UpdatedAt modules.Time  `json:"updatedAt"`
}

// PermissionGrantedPayload is the payload of permission_granted. Previous is the grant it
// replaced, if any.
type PermissionGrantedPayload struct {
	UserID        string           `json:"userId"`
	Permission    EventPermission  `json:"permission"`
	Previous      *EventPermission `json:"previous"`
	AccessReduced bool             `json:"accessReduced"`
}

// PermissionRevokedPayload is the payload of permission_revoked; Permission is the grant removed.
type PermissionRevokedPayload struct {
	UserID        string          `json:"userId"`
	Permission    EventPermission `json:"permission"`
	AccessReduced bool            `json:"accessReduced"` // true unless the grant denied everything
}

// memberDraft is a member event of driveID about userID, for the drive's room and the member's:
// it changes that member's access to the drive (reason, for the sockets that lose a room).
func memberDraft(typ, actorID, driveID, userID, reason string, payload any) eventlog.Draft {
	return eventlog.Draft{Type: typ, DriveID: driveID, ActorID: actorID,
		Rooms:   []modules.Room{modules.DriveRoom(driveID), modules.UserRoom(userID)},
		Payload: payload, Access: eventlog.UsersChanged(reason, userID)}
}

// grantDraft is a grant event of userID on pageID in driveID, for the rooms of the page, the
// drive and the grantee: it changes the grantee's access.
func grantDraft(typ, actorID, driveID, pageID, userID, reason string, payload any) eventlog.Draft {
	return eventlog.Draft{Type: typ, DriveID: driveID, PageID: pageID, ActorID: actorID,
		Rooms:   []modules.Room{modules.PageRoom(pageID), modules.DriveRoom(driveID), modules.UserRoom(userID)},
		Payload: payload, Access: eventlog.UsersChanged(reason, userID)}
}

// memberAdded is member_added: the member joins the drive.
func memberAdded(actorID, driveID string, m EventMember) eventlog.Draft {
	d := memberDraft(EventMemberAdded, actorID, driveID, m.UserID, "member_added", MemberAddedPayload{UserID: m.UserID, Member: m})
	d.Access.Membership = eventlog.Joined
	return d
}

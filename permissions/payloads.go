package permissions

import (
	"encoding/json"
	"fmt"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// Event names of the package. Every event also carries eventId, type, at and actorId, added by
// the event log.
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
	// tells a realtime layer to re-check UserID's rooms.
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
	DriveID string          `json:"driveId"`
	ActorID string          `json:"actorId"`
	Drive   DriveEventDrive `json:"drive"`
}

// DriveUpdatedPayload is the payload of drive_updated.
type DriveUpdatedPayload struct {
	DriveID string          `json:"driveId"`
	ActorID string          `json:"actorId"`
	Drive   DriveEventDrive `json:"drive"`
}

// DriveDeletedPayload is the payload of drive_deleted. UserIDs are the members and grantees who
// lost access.
type DriveDeletedPayload struct {
	DriveID string          `json:"driveId"`
	ActorID string          `json:"actorId"`
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
	DriveID string      `json:"driveId"`
	ActorID string      `json:"actorId"`
	UserID  string      `json:"userId"`
	Member  EventMember `json:"member"`
}

// MemberRemovedPayload is the payload of member_removed; Member.Role is the role the member had.
type MemberRemovedPayload struct {
	DriveID       string      `json:"driveId"`
	ActorID       string      `json:"actorId"`
	UserID        string      `json:"userId"`
	Member        EventMember `json:"member"`
	AccessReduced bool        `json:"accessReduced"` // always true
}

// MemberRoleChangedPayload is the payload of member_role_changed.
type MemberRoleChangedPayload struct {
	DriveID       string      `json:"driveId"`
	ActorID       string      `json:"actorId"`
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
	PageID        string           `json:"pageId"`
	DriveID       string           `json:"driveId"`
	ActorID       string           `json:"actorId"`
	UserID        string           `json:"userId"`
	Permission    EventPermission  `json:"permission"`
	Previous      *EventPermission `json:"previous"`
	AccessReduced bool             `json:"accessReduced"`
}

// PermissionRevokedPayload is the payload of permission_revoked; Permission is the grant removed.
type PermissionRevokedPayload struct {
	PageID        string          `json:"pageId"`
	DriveID       string          `json:"driveId"`
	ActorID       string          `json:"actorId"`
	UserID        string          `json:"userId"`
	Permission    EventPermission `json:"permission"`
	AccessReduced bool            `json:"accessReduced"` // true unless the grant denied everything
}

// record adds an event whose payload is a typed struct.
func record(rec *eventlog.Recorder, typ, driveID, pageID, actorID string, rooms []string, payload any) error {
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("permissions: encode %s: %w", typ, err)
	}
	var data map[string]any
	if err := json.Unmarshal(b, &data); err != nil {
		return fmt.Errorf("permissions: encode %s: %w", typ, err)
	}
	rec.Record(eventlog.Draft{Type: typ, DriveID: driveID, PageID: pageID, ActorID: actorID, Rooms: rooms, Data: data})
	return nil
}

package modules

import (
	"fmt"
	"strings"
)

// RoomKind is what a room gathers: the sockets of one user, of one drive's tree or of one page.
type RoomKind string

// The kinds of room. A room's name is its kind, a colon and an id, e.g. "page:<pageId>".
const (
	RoomUser  RoomKind = "user"
	RoomDrive RoomKind = "drive"
	RoomPage  RoomKind = "page"
)

// Room is a room of the realtime layer: events are addressed to rooms, and sockets join them
// after a permission check. On the wire (the event log's rooms, access_revoked) it is its name,
// "<kind>:<id>".
type Room struct {
	Kind RoomKind
	ID   string
}

// PageRoom is the room of a page.
func PageRoom(pageID string) Room { return Room{Kind: RoomPage, ID: pageID} }

// DriveRoom is the room of a drive.
func DriveRoom(driveID string) Room { return Room{Kind: RoomDrive, ID: driveID} }

// UserRoom is the room of all sockets of a user.
func UserRoom(userID string) Room { return Room{Kind: RoomUser, ID: userID} }

// String is the room's name.
func (r Room) String() string { return string(r.Kind) + ":" + r.ID }

// ParseRoom reads a room's name; it reports false for anything but "<kind>:<id>" with a known
// kind and a non-empty id.
func ParseRoom(name string) (Room, bool) {
	kind, id, found := strings.Cut(name, ":")
	switch k := RoomKind(kind); k {
	case RoomUser, RoomDrive, RoomPage:
		if found && id != "" {
			return Room{Kind: k, ID: id}, true
		}
	}
	return Room{}, false
}

// MarshalText writes the room's name, so that rooms travel and are stored as JSON strings.
func (r Room) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a room's name (ParseRoom).
func (r *Room) UnmarshalText(b []byte) error {
	room, ok := ParseRoom(string(b))
	if !ok {
		return fmt.Errorf("modules: %q is not a room name", b)
	}
	*r = room
	return nil
}

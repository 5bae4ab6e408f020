package modules

import "github.com/google/uuid"

// NewID returns a new opaque id: a time-ordered UUID (v7), so ids sort roughly by creation.
func NewID() string { return uuid.Must(uuid.NewV7()).String() }

// PageRoom is the room of a page. Events are addressed to rooms; sockets join them after a
// permission check.
func PageRoom(pageID string) string { return "page:" + pageID }

// DriveRoom is the room of a drive.
func DriveRoom(driveID string) string { return "drive:" + driveID }

// UserRoom is the room of all sockets of a user.
func UserRoom(userID string) string { return "user:" + userID }

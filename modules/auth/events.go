package auth

import (
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// Event names of the package. Both end sockets: their drafts carry the access change
// (eventlog.Access) that tells the realtime layer which.
const (
	// EventSessionEnded is recorded on logout, on refresh-token reuse and when an agent key is
	// revoked, for user:<id>, so that realtime ends the session's sockets.
	EventSessionEnded = "session_ended"
	// EventUserDeleted is recorded when an account (or an agent) is deleted, for the user's own
	// room and the rooms of the drives it belonged to.
	EventUserDeleted = "user_deleted"
)

// The reasons a session ends (session_ended's reason).
const (
	ReasonLogout      = "logout"
	ReasonTokenReused = "refresh_token_reused"
	ReasonKeyRevoked  = "key_revoked" // an agent key, whose id is the session's
)

// SessionEnded is the payload of session_ended.
type SessionEnded struct {
	UserID    string `json:"userId"`
	SessionID string `json:"sessionId"`
	Reason    string `json:"reason"`
}

// UserDeleted is the payload of user_deleted: DriveIDs are the drives the user belonged to.
type UserDeleted struct {
	UserID   string   `json:"userId"`
	DriveIDs []string `json:"driveIds"`
}

// SessionEndedDraft is the event of userID's session sessionID ending, done by actorID. Its
// sockets are closed with access_revoked, whose reason is key_revoked for an agent key and
// logout for any other end.
func SessionEndedDraft(actorID, userID, sessionID, reason string) eventlog.Draft {
	told := ReasonLogout
	if reason == ReasonKeyRevoked {
		told = reason
	}
	return eventlog.Draft{Type: EventSessionEnded, ActorID: actorID, Rooms: []modules.Room{modules.UserRoom(userID)},
		Payload: SessionEnded{UserID: userID, SessionID: sessionID, Reason: reason},
		Access:  &eventlog.Access{Scope: eventlog.ScopeSession, Reason: told, Users: []string{userID}, Session: sessionID}}
}

// UserDeletedDraft is the event of userID's deletion, done by actorID, for the user's room and
// the rooms of driveIDs, the drives it belonged to. All its sockets are closed.
func UserDeletedDraft(actorID, userID string, driveIDs []string) eventlog.Draft {
	rooms := []modules.Room{modules.UserRoom(userID)}
	for _, d := range driveIDs {
		rooms = append(rooms, modules.DriveRoom(d))
	}
	return eventlog.Draft{Type: EventUserDeleted, ActorID: actorID, Rooms: rooms,
		Payload: UserDeleted{UserID: userID, DriveIDs: driveIDs},
		Access:  &eventlog.Access{Scope: eventlog.ScopeAccounts, Reason: "user_deleted", Users: []string{userID}}}
}

package eventlog

// Access is what an event changes about who may see what. The module that records the event
// sets it on the Draft, knowing what its write changed; it is stored with the event (the access
// column) and travels with it to every process. The realtime layer applies it before it
// delivers the event: it re-resolves the users it names (or everyone with a view of the drive)
// and takes their sockets out of the rooms they may no longer be in. An event that changes no
// one's access has none.
//
// So a new event type that changes access is written in one place, its module: the realtime
// layer reads these facts, never the event's type or payload.
type Access struct {
	// Scope says whose access changed, and so what the realtime layer does.
	Scope Scope `json:"scope"`
	// Reason is what sockets are told when they lose a room by this event (the reason of
	// access_revoked), e.g. "member_removed", "page_private", "logout".
	Reason string `json:"reason"`
	// Users are the users concerned: whose access to the event's drive changed (ScopeUsers),
	// whose session ended (ScopeSession, one user) or who are gone (ScopeAccounts).
	Users []string `json:"users,omitempty"`
	// Session is the session that ended (ScopeSession).
	Session string `json:"session,omitempty"`
	// Removed are the pages the event takes out of view, trashed or deleted, root first. The
	// sockets that were in their rooms or the event's rooms still receive the event, when the
	// audience rule lets them, although they may leave those rooms by it.
	Removed []string `json:"removed,omitempty"`
	// ForGood says that the Removed pages are deleted, not trashed. Whoever could see the
	// event's page until then receives the event, shaped by what they could see then, and is
	// not told separately of each page they lost.
	ForGood bool `json:"forGood,omitempty"`
	// Membership is how the event changes who the drive's members are, for drive presence.
	Membership Membership `json:"membership,omitempty"`
}

// Scope is whose access an event changes.
type Scope string

// The scopes of an access change.
const (
	// ScopeUsers: the access of Users to the event's drive changed (a membership, a role, a
	// grant); nobody else's did.
	ScopeUsers Scope = "users"
	// ScopeDrive: anyone's access to the event's drive may have changed (a page created,
	// moved, made private or public, trashed, restored or deleted; the drive deleted).
	ScopeDrive Scope = "drive"
	// ScopeSession: Session of the one user in Users ended (logout, a revoked agent key); the
	// sockets signed in with it are closed.
	ScopeSession Scope = "session"
	// ScopeAccounts: Users are gone (account or agent deleted); all their sockets are closed.
	ScopeAccounts Scope = "accounts"
)

// Membership is how an event changes the members of its drive.
type Membership string

// The membership changes.
const (
	// Joined: Users became members of the drive.
	Joined Membership = "joined"
	// Left: Users are no longer members of the drive.
	Left Membership = "left"
	// Dissolved: the drive is gone, and with it every membership.
	Dissolved Membership = "dissolved"
)

// UsersChanged is the access change of an event that changes the access of the given users to
// its drive, and of nobody else.
func UsersChanged(reason string, users ...string) *Access {
	return &Access{Scope: ScopeUsers, Reason: reason, Users: users}
}

// DriveChanged is the access change of an event that may change anyone's access to its drive.
func DriveChanged(reason string) *Access {
	return &Access{Scope: ScopeDrive, Reason: reason}
}

package permissions

import (
	"time"

	"github.com/pagespace/pagespace/modules"
)

// Role is a drive member's role.
type Role string

// The roles, strongest first. NoRole means not a member.
const (
	RoleOwner  Role = "OWNER"
	RoleAdmin  Role = "ADMIN"
	RoleMember Role = "MEMBER"
	RoleViewer Role = "VIEWER"
	NoRole     Role = ""
)

// Valid reports whether r is one of the four roles.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleAdmin, RoleMember, RoleViewer:
		return true
	}
	return false
}

// Manages reports whether the role manages the drive (members, everything on every page).
func (r Role) Manages() bool { return r == RoleOwner || r == RoleAdmin }

// Drive is a workspace: a tree of pages with members.
type Drive struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	OwnerID   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Member is a user's role in a drive.
type Member struct {
	DriveID   string `gorm:"primaryKey"`
	UserID    string `gorm:"primaryKey"`
	Role      Role
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is drive_members.
func (Member) TableName() string { return "drive_members" }

// Grant is an explicit permission of one user on one page (and, by inheritance, its subtree).
type Grant struct {
	PageID    string `gorm:"primaryKey"`
	UserID    string `gorm:"primaryKey"`
	CanView   bool
	CanEdit   bool
	CanShare  bool
	CanDelete bool
	ExpiresAt *time.Time
	GrantedBy *string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is page_permissions.
func (Grant) TableName() string { return "page_permissions" }

// Active reports whether the grant counts at time now.
func (g Grant) Active(now time.Time) bool { return g.ExpiresAt == nil || g.ExpiresAt.After(now) }

// Access is what a user may do on a page.
type Access struct {
	View   bool `json:"canView"`
	Edit   bool `json:"canEdit"`
	Share  bool `json:"canShare"`
	Delete bool `json:"canDelete"`
}

var (
	fullAccess = Access{View: true, Edit: true, Share: true, Delete: true}
	noAccess   = Access{}
)

func (g Grant) access() Access {
	// Any right implies seeing the page.
	return Access{View: g.CanView || g.CanEdit || g.CanShare || g.CanDelete, Edit: g.CanEdit, Share: g.CanShare, Delete: g.CanDelete}
}

// PageAccess is the resolution of one user on one page.
type PageAccess struct {
	Access
	PageID  string
	DriveID string
	Role    Role // the user's role in the drive, NoRole when not a member
	Trashed bool // the page is in the trash
	// Until is when the deciding grant expires, if a grant decided and it expires.
	Until *time.Time
	// ParentHidden is set when the page has a parent the user may not view: what the user is
	// shown of the page must not name that parent.
	ParentHidden bool
}

// pageNode is the slice of a page row that access depends on. The pages package owns the table.
type pageNode struct {
	ID        string
	DriveID   string
	ParentID  *string
	IsPrivate bool
	TrashedAt *time.Time
}

func (pageNode) TableName() string { return "pages" }

// pageType is the type of a page row, for PageOfType.
type pageType struct {
	ID   string
	Type string
}

func (pageType) TableName() string { return "pages" }

// Sentinel errors of the package.
var (
	ErrDriveNotFound  = modules.E(modules.KindNotFound, "drive not found")
	ErrPageNotFound   = modules.E(modules.KindNotFound, "page not found")
	ErrWrongPageType  = modules.E(modules.KindNotFound, "page is not of the expected type")
	ErrMemberNotFound = modules.E(modules.KindNotFound, "member not found")
	ErrUserNotFound   = modules.E(modules.KindNotFound, "user not found")
	ErrGrantNotFound  = modules.E(modules.KindNotFound, "permission not found")
	ErrForbidden      = modules.E(modules.KindForbidden, "you do not have permission to do this")
	ErrAlreadyMember  = modules.E(modules.KindConflict, "user is already a member of this drive")
	ErrOwnerImmutable = modules.E(modules.KindConflict, "the drive owner's membership cannot be changed")
	ErrAdminProtected = modules.E(modules.KindForbidden, "only the drive owner can change or remove another admin")
	ErrPageTrashed    = modules.E(modules.KindConflict, "the page is in the trash; restore it to change its permissions")
	ErrGrantExceeds   = modules.E(modules.KindForbidden, "you cannot grant or change rights you do not hold yourself")
)

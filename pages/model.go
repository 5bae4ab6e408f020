package pages

import (
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/permissions"
)

// Limits of the package.
const (
	// MaxDepth is the deepest a page may sit: a root page is at depth 1.
	MaxDepth = 64
	// MaxTitle is the longest title, in characters.
	MaxTitle = 200
	// MaxContent is the largest content, in bytes (the request body limit bounds it too).
	MaxContent = 1 << 20
	// MaxEventContent is the largest content a page_updated event carries; above it the event
	// says contentOmitted and clients refetch the page.
	MaxEventContent = 64 << 10
)

// walkLimit bounds recursive queries, so a corrupt tree cannot make them run away.
const walkLimit = 1000

// Type is the kind of a page.
type Type string

// The page types.
const (
	TypeFolder   Type = "FOLDER"
	TypeDocument Type = "DOCUMENT"
	TypeChannel  Type = "CHANNEL"
	TypeTaskList Type = "TASK_LIST"
)

// Valid reports whether t is one of the page types.
func (t Type) Valid() bool {
	switch t {
	case TypeFolder, TypeDocument, TypeChannel, TypeTaskList:
		return true
	}
	return false
}

// row is a pages row.
type row struct {
	ID          string `gorm:"primaryKey"`
	DriveID     string
	ParentID    *string
	Title       string
	Type        Type
	Position    float64
	IsPrivate   bool
	Content     string
	Revision    int64
	CreatedBy   *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	TrashedAt   *time.Time
	TrashedBy   *string
	TrashRootID *string
	// DocVersion is the live editing version of the content: how many ops made it.
	DocVersion int64
	// RevisionDocVersion is the DocVersion of the latest revision.
	RevisionDocVersion int64
}

func (row) TableName() string { return "pages" }

// nodeColumns are the columns of a row without its content.
const nodeColumns = "id, drive_id, parent_id, title, type, position, is_private, revision, created_by, created_at, updated_at, trashed_at, trashed_by, trash_root_id"

// revisionRow is a page_revisions row: the title and content a revision left behind.
type revisionRow struct {
	PageID    string `gorm:"primaryKey"`
	Revision  int64  `gorm:"primaryKey"`
	Title     string
	Content   string
	AuthorID  *string
	CreatedAt time.Time
}

func (revisionRow) TableName() string { return "page_revisions" }

// Node is a page without its content: an item of the tree and the entity of tree events.
type Node struct {
	ID        string       `json:"id"`
	ParentID  *string      `json:"parentId"`
	Title     string       `json:"title"`
	Type      Type         `json:"type"`
	Position  float64      `json:"position"`
	IsPrivate bool         `json:"isPrivate"`
	CreatedAt modules.Time `json:"createdAt"`
	UpdatedAt modules.Time `json:"updatedAt"`
	Revision  int64        `json:"revision"`
	// Detached is set on a page whose parent the caller cannot see (in the tree listing, a
	// single page and events); its parentId is then null.
	Detached bool `json:"detached,omitempty"`
}

func (r row) node() Node {
	return Node{
		ID: r.ID, ParentID: r.ParentID, Title: r.Title, Type: r.Type, Position: r.Position,
		IsPrivate: r.IsPrivate, CreatedAt: modules.Time(r.CreatedAt), UpdatedAt: modules.Time(r.UpdatedAt),
		Revision: r.Revision,
	}
}

// Page is one page with its content, as GET /api/pages/{pageId} returns it.
type Page struct {
	Node
	DriveID string `json:"driveId"`
	Content string `json:"content"`
	// DocVersion is the live editing version of Content (see realtime's doc_open).
	DocVersion int64         `json:"docVersion"`
	CreatedBy  *string       `json:"createdBy"`
	TrashedAt  *modules.Time `json:"trashedAt"`
	// Access is what the caller may do on the page.
	Access permissions.Access `json:"access"`
}

// page is the row as the user resolved in pa sees it: a parent they may not view is not named
// (parentId null, detached), as in the tree listing.
func (r row) page(pa permissions.PageAccess) Page {
	p := Page{Node: r.node(), DriveID: r.DriveID, Content: r.Content, DocVersion: r.DocVersion, CreatedBy: r.CreatedBy,
		TrashedAt: modules.TimePtr(r.TrashedAt), Access: pa.Access}
	if pa.ParentHidden && p.ParentID != nil {
		p.ParentID, p.Detached = nil, true
	}
	return p
}

// TrashItem is a trash root: a page trashed by itself, with the subtree trashed with it.
type TrashItem struct {
	Node
	TrashedAt modules.Time `json:"trashedAt"`
	TrashedBy *string      `json:"trashedBy"`
	// PageCount is how many pages restoring it brings back, itself included.
	PageCount int64 `json:"pageCount"`
}

// Revision is one entry of a page's history.
type Revision struct {
	Revision  int64        `json:"revision"`
	Title     string       `json:"title"`
	AuthorID  *string      `json:"authorId"`
	CreatedAt modules.Time `json:"createdAt"`
	// Content is only in GET /api/pages/{pageId}/revisions/{revision}, not in the list.
	Content *string `json:"content,omitempty"`
}

func (r revisionRow) view(withContent bool) Revision {
	v := Revision{Revision: r.Revision, Title: r.Title, AuthorID: r.AuthorID, CreatedAt: modules.Time(r.CreatedAt)}
	if withContent {
		c := r.Content
		v.Content = &c
	}
	return v
}

// Sentinel errors of the package.
var (
	ErrNotFound         = modules.E(modules.KindNotFound, "page not found")
	ErrDriveNotFound    = modules.E(modules.KindNotFound, "drive not found")
	ErrParentNotFound   = modules.E(modules.KindNotFound, "parent page not found")
	ErrRevisionNotFound = modules.E(modules.KindNotFound, "revision not found")
	ErrForbidden        = modules.E(modules.KindForbidden, "you do not have permission to do this")
	ErrConflict         = modules.E(modules.KindConflict, "the page has changed since expectedRevision")
	ErrCycle            = modules.E(modules.KindInvalid, "a page cannot be moved under itself or one of its descendants")
	ErrTooDeep          = modules.E(modules.KindInvalid, "the page tree would be deeper than 64 levels")
	ErrOtherDrive       = modules.E(modules.KindInvalid, "the parent page is in another drive")
	ErrParentTrashed    = modules.E(modules.KindConflict, "the parent page is in the trash")
	ErrNotTrashed       = modules.E(modules.KindConflict, "the page is not in the trash")
	ErrNotTrashRoot     = modules.E(modules.KindConflict, "the page was trashed with an ancestor; restore that page instead")
	ErrPageTrashed      = modules.E(modules.KindConflict, "the page is in the trash; restore it first")
)

package permissions

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pagespace/pagespace/modules"
	"gorm.io/gorm"
)

// maxDepth bounds the ancestor walk; the pages package keeps trees far shallower.
const maxDepth = 1000

// Resolver answers every access question. It is safe for concurrent use.
type Resolver struct {
	db   *gorm.DB
	now  func() time.Time
	lock bool // take the drive's shared access lock before each check (In)
}

// NewResolver returns a resolver reading db.
func NewResolver(db *gorm.DB) *Resolver { return &Resolver{db: db, now: modules.Now} }

// In returns a resolver for the transaction of a write: it reads through tx, so a check and the
// write it guards see the same transaction, and before each check it takes the shared access
// lock of the drive checked (see LockDrive), so that the write cannot commit on access that a
// concurrent change took away.
func (r *Resolver) In(tx *gorm.DB) *Resolver { return &Resolver{db: tx, now: r.now, lock: true} }

// Role returns userID's role in driveID, NoRole when not a member. It does not check that the
// drive exists.
func (r *Resolver) Role(ctx context.Context, userID, driveID string) (Role, error) {
	if r.lock {
		if err := LockDrive(ctx, r.db, driveID, Shared); err != nil {
			return NoRole, err
		}
	}
	var m Member
	err := r.db.WithContext(ctx).Where("drive_id = ? AND user_id = ?", driveID, userID).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return NoRole, nil
	}
	if err != nil {
		return NoRole, fmt.Errorf("permissions: role: %w", err)
	}
	return m.Role, nil
}

// Page resolves userID's access on pageID in one query: the ancestor chain, with the user's
// grant on each page of it and the user's role in the drive. It returns ErrPageNotFound when the
// page does not exist; callers turn "no view" into not-found too, so that existence does not
// leak.
func (r *Resolver) Page(ctx context.Context, userID, pageID string) (PageAccess, error) {
	pa, _, err := r.page(ctx, userID, pageID)
	return pa, err
}

// PageOfType resolves userID on pageID for a package that serves the content of one page type
// (a CHANNEL's messages, a TASK_LIST's tasks). A page that does not exist, that the user may not
// view or that is in the trash is ErrPageNotFound, so that existence does not leak; a page the
// user may view but of another type than typ is ErrWrongPageType. Any further right (edit,
// delete) is the caller's to check on the returned PageAccess.
func (r *Resolver) PageOfType(ctx context.Context, userID, pageID, typ string) (PageAccess, error) {
	pa, pageType, err := r.page(ctx, userID, pageID)
	if err != nil {
		return pa, err
	}
	if !pa.CanOpen() {
		return pa, ErrPageNotFound
	}
	if pageType != typ {
		return pa, ErrWrongPageType
	}
	return pa, nil
}

// chainRow is one page of the ancestor chain, page first, with what decides userID's access.
type chainRow struct {
	ID        string
	DriveID   string
	ParentID  *string
	IsPrivate bool
	TrashedAt *time.Time
	Type      string  // of the page itself (row 0)
	Role      *string // userID's role in the drive, on every row; nil for a non-member
	HasGrant  bool
	CanView   *bool
	CanEdit   *bool
	CanShare  *bool
	CanDel    *bool
	Expires   *time.Time
}

// page is Page, with the page's type. Every page of a chain is in the same drive: pages never
// move across drives.
func (r *Resolver) page(ctx context.Context, userID, pageID string) (PageAccess, string, error) {
	if r.lock {
		if err := LockPageDrive(ctx, r.db, pageID, Shared); err != nil {
			return PageAccess{}, "", err
		}
	}
	var rows []chainRow
	err := r.db.WithContext(ctx).Raw(`WITH RECURSIVE chain(id, drive_id, parent_id, is_private, trashed_at, type, depth) AS (
			SELECT id, drive_id, parent_id, is_private, trashed_at, type, 0 FROM pages WHERE id = ?
			UNION ALL
			SELECT p.id, p.drive_id, p.parent_id, p.is_private, p.trashed_at, p.type, c.depth + 1
			FROM pages p JOIN chain c ON p.id = c.parent_id WHERE c.depth < ?
		)
		SELECT c.id, c.drive_id, c.parent_id, c.is_private, c.trashed_at, c.type,
			(SELECT m.role FROM drive_members m WHERE m.drive_id = c.drive_id AND m.user_id = ?) AS role,
			g.page_id IS NOT NULL AS has_grant, g.can_view, g.can_edit, g.can_share, g.can_delete AS can_del,
			g.expires_at AS expires
		FROM chain c LEFT JOIN page_permissions g ON g.page_id = c.id AND g.user_id = ?
		ORDER BY c.depth`, pageID, maxDepth, userID, userID).
		Find(&rows).Error // not Scan, which formats the SQL of every statement, logged or not
	if err != nil {
		return PageAccess{}, "", fmt.Errorf("permissions: page chain: %w", err)
	}
	if len(rows) == 0 {
		return PageAccess{}, "", ErrPageNotFound
	}
	role := NoRole
	if rows[0].Role != nil {
		role = Role(*rows[0].Role)
	}
	chain := make([]pageNode, len(rows))
	grants := make(map[string]Grant)
	for i, row := range rows {
		chain[i] = pageNode{ID: row.ID, DriveID: row.DriveID, ParentID: row.ParentID, IsPrivate: row.IsPrivate, TrashedAt: row.TrashedAt}
		if row.HasGrant {
			grants[row.ID] = Grant{PageID: row.ID, UserID: userID, CanView: isTrue(row.CanView), CanEdit: isTrue(row.CanEdit),
				CanShare: isTrue(row.CanShare), CanDelete: isTrue(row.CanDel), ExpiresAt: row.Expires}
		}
	}
	pa := resolveChain(role, chain, grants, r.now())
	if len(chain) > 1 {
		pa.ParentHidden = !resolveChain(role, chain[1:], grants, r.now()).View
	}
	return pa, rows[0].Type, nil
}

func isTrue(b *bool) bool { return b != nil && *b }

// resolveChain applies the rules to a chain that starts at the page and ends at its root.
func resolveChain(role Role, chain []pageNode, grants map[string]Grant, now time.Time) PageAccess {
	pa := PageAccess{PageID: chain[0].ID, DriveID: chain[0].DriveID, Role: role, Trashed: chain[0].TrashedAt != nil}
	if role.Manages() {
		pa.Access = fullAccess
		return pa
	}
	private := false
	for _, n := range chain {
		if g, ok := grants[n.ID]; ok && g.Active(now) {
			pa.Access = g.access()
			pa.Until = g.ExpiresAt
			return pa
		}
		private = private || n.IsPrivate
	}
	pa.Access = roleAccess(role, private)
	return pa
}

func roleAccess(role Role, private bool) Access {
	if private {
		return noAccess
	}
	switch role {
	case RoleMember:
		return Access{View: true, Edit: true}
	case RoleViewer:
		return Access{View: true}
	}
	return noAccess
}

// DriveView is one user's resolution of every page of a drive.
type DriveView struct {
	DriveID string
	Role    Role
	Pages   map[string]PageAccess
}

// Drive resolves userID's access on every page of driveID in three queries, whatever the size
// of the tree. Trashed pages are included, flagged.
func (r *Resolver) Drive(ctx context.Context, userID, driveID string) (DriveView, error) {
	db := r.db.WithContext(ctx)
	role, err := r.Role(ctx, userID, driveID)
	if err != nil {
		return DriveView{}, err
	}
	var nodes []pageNode
	if err := db.Where("drive_id = ?", driveID).Find(&nodes).Error; err != nil {
		return DriveView{}, fmt.Errorf("permissions: drive pages: %w", err)
	}
	var grants []Grant
	if role.Manages() {
		grants = nil // managers see everything; grants cannot lower them
	} else if err := db.Where("user_id = ? AND page_id IN (?)", userID,
		db.Model(&pageNode{}).Select("id").Where("drive_id = ?", driveID)).Find(&grants).Error; err != nil {
		return DriveView{}, fmt.Errorf("permissions: drive grants: %w", err)
	}
	return resolveTree(driveID, role, nodes, grants, r.now()), nil
}

// resolveTree resolves every node, memoising the inherited state of each ancestor so the whole
// tree costs one pass.
func resolveTree(driveID string, role Role, nodes []pageNode, grants []Grant, now time.Time) DriveView {
	view := DriveView{DriveID: driveID, Role: role, Pages: make(map[string]PageAccess, len(nodes))}
	byID := make(map[string]*pageNode, len(nodes))
	for i := range nodes {
		byID[nodes[i].ID] = &nodes[i]
	}
	active := make(map[string]Grant, len(grants))
	for _, g := range grants {
		if g.Active(now) {
			active[g.PageID] = g
		}
	}
	type state struct {
		grant   *Grant // nearest active grant on the node or an ancestor
		private bool   // private on the node or an ancestor, below that grant
		done    bool
	}
	states := make(map[string]*state, len(nodes))
	var visit func(id string, depth int) *state
	visit = func(id string, depth int) *state {
		if s, ok := states[id]; ok {
			if !s.done { // a cycle: treat as root
				return &state{}
			}
			return s
		}
		n := byID[id]
		s := &state{}
		states[id] = s
		var parent *state
		if n.ParentID != nil && byID[*n.ParentID] != nil && depth < maxDepth {
			parent = visit(*n.ParentID, depth+1)
		} else {
			parent = &state{}
		}
		if g, ok := active[id]; ok {
			s.grant = &g
		} else {
			s.grant = parent.grant
			s.private = parent.private || n.IsPrivate
		}
		s.done = true
		return s
	}
	for _, n := range nodes {
		s := visit(n.ID, 0)
		pa := PageAccess{PageID: n.ID, DriveID: driveID, Role: role, Trashed: n.TrashedAt != nil}
		switch {
		case role.Manages():
			pa.Access = fullAccess
		case s.grant != nil:
			pa.Access = s.grant.access()
			pa.Until = s.grant.ExpiresAt
		default:
			pa.Access = roleAccess(role, s.private)
		}
		view.Pages[n.ID] = pa
	}
	for _, n := range nodes {
		if n.ParentID != nil && !view.Pages[*n.ParentID].View {
			pa := view.Pages[n.ID]
			pa.ParentHidden = true
			view.Pages[n.ID] = pa
		}
	}
	return view
}

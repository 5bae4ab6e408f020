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
	db  *gorm.DB
	now func() time.Time
}

// NewResolver returns a resolver reading db.
func NewResolver(db *gorm.DB) *Resolver { return &Resolver{db: db, now: modules.Now} }

// In returns a resolver that reads through tx, so a check and the write it guards see the same
// transaction.
func (r *Resolver) In(tx *gorm.DB) *Resolver { return &Resolver{db: tx, now: r.now} }

// Role returns userID's role in driveID, NoRole when not a member. It does not check that the
// drive exists.
func (r *Resolver) Role(ctx context.Context, userID, driveID string) (Role, error) {
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

// Page resolves userID's access on pageID in three queries (ancestor chain, grants on the chain,
// membership). It returns ErrPageNotFound when the page does not exist; callers turn "no view"
// into not-found too, so that existence does not leak.
func (r *Resolver) Page(ctx context.Context, userID, pageID string) (PageAccess, error) {
	db := r.db.WithContext(ctx)
	var chain []pageNode
	err := db.Raw(`WITH RECURSIVE chain(id, drive_id, parent_id, is_private, trashed_at, depth) AS (
			SELECT id, drive_id, parent_id, is_private, trashed_at, 0 FROM pages WHERE id = ?
			UNION ALL
			SELECT p.id, p.drive_id, p.parent_id, p.is_private, p.trashed_at, c.depth + 1
			FROM pages p JOIN chain c ON p.id = c.parent_id WHERE c.depth < ?
		) SELECT id, drive_id, parent_id, is_private, trashed_at FROM chain ORDER BY depth`, pageID, maxDepth).
		Scan(&chain).Error
	if err != nil {
		return PageAccess{}, fmt.Errorf("permissions: page chain: %w", err)
	}
	if len(chain) == 0 {
		return PageAccess{}, ErrPageNotFound
	}
	ids := make([]string, len(chain))
	for i, n := range chain {
		ids[i] = n.ID
	}
	var grants []Grant
	if err := db.Where("user_id = ? AND page_id IN ?", userID, ids).Find(&grants).Error; err != nil {
		return PageAccess{}, fmt.Errorf("permissions: grants: %w", err)
	}
	role, err := r.Role(ctx, userID, chain[0].DriveID)
	if err != nil {
		return PageAccess{}, err
	}
	byPage := make(map[string]Grant, len(grants))
	for _, g := range grants {
		byPage[g.PageID] = g
	}
	return resolveChain(role, chain, byPage, r.now()), nil
}

// PageOfType resolves userID on pageID for a package that serves the content of one page type
// (a CHANNEL's messages, a TASK_LIST's tasks). A page that does not exist, that the user may not
// view or that is in the trash is ErrPageNotFound, so that existence does not leak; a page the
// user may view but of another type than typ is ErrWrongPageType. Any further right (edit,
// delete) is the caller's to check on the returned PageAccess.
func (r *Resolver) PageOfType(ctx context.Context, userID, pageID, typ string) (PageAccess, error) {
	pa, err := r.Page(ctx, userID, pageID)
	if err != nil {
		return pa, err
	}
	if !pa.View || pa.Trashed {
		return pa, ErrPageNotFound
	}
	var p pageType
	err = r.db.WithContext(ctx).Select("id", "type").Where("id = ?", pageID).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return pa, ErrPageNotFound
	}
	if err != nil {
		return pa, fmt.Errorf("permissions: page type: %w", err)
	}
	if p.Type != typ {
		return pa, ErrWrongPageType
	}
	return pa, nil
}

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

// CanView reports whether the page exists in the drive and may be viewed (trashed or not).
func (v DriveView) CanView(pageID string) bool { return v.Pages[pageID].View }

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
	return view
}

package permissions

import (
	"context"
	"fmt"
)

// MoveWidens reports whether moving pageID under newParentID (nil: the drive root) would let
// someone view the page who may not view it now: a user holding a grant on the page or on an
// ancestor before or after the move, or any member without one (for whom only privacy
// counts, so members who join later count too). OWNER and ADMIN see every page either way.
// Such a move needs the share right on the page, the right that widening access needs. Call it
// in the move's transaction, under the drive's access lock; it reads through r. Errors:
// ErrPageNotFound.
func (r *Resolver) MoveWidens(ctx context.Context, pageID string, newParentID *string) (bool, error) {
	before, err := r.chain(ctx, pageID)
	if err != nil {
		return false, err
	}
	if len(before) == 0 {
		return false, ErrPageNotFound
	}
	after := before[:1:1]
	if newParentID != nil {
		above, err := r.chain(ctx, *newParentID)
		if err != nil {
			return false, err
		}
		after = append(after, above...)
	}
	ids := make([]string, 0, len(before)+len(after))
	for _, n := range before {
		ids = append(ids, n.ID)
	}
	for _, n := range after[1:] {
		ids = append(ids, n.ID)
	}
	var grants []Grant
	if err := r.db.WithContext(ctx).Where("page_id IN ?", ids).Find(&grants).Error; err != nil {
		return false, fmt.Errorf("permissions: move grants: %w", err)
	}
	byUser := make(map[string]map[string]Grant)
	for _, g := range grants {
		if byUser[g.UserID] == nil {
			byUser[g.UserID] = make(map[string]Grant)
		}
		byUser[g.UserID][g.PageID] = g
	}
	roles := make(map[string]Role, len(byUser))
	if len(byUser) > 0 {
		users := make([]string, 0, len(byUser))
		for u := range byUser {
			users = append(users, u)
		}
		var members []Member
		if err := r.db.WithContext(ctx).Where("drive_id = ? AND user_id IN ?", before[0].DriveID, users).
			Find(&members).Error; err != nil {
			return false, fmt.Errorf("permissions: move roles: %w", err)
		}
		for _, m := range members {
			roles[m.UserID] = m.Role
		}
	}
	now := r.now()
	gains := func(role Role, grants map[string]Grant) bool {
		return !resolveChain(role, before, grants, now).View && resolveChain(role, after, grants, now).View
	}
	// A VIEWER without grants sees what a MEMBER without grants sees.
	if gains(RoleViewer, nil) {
		return true, nil
	}
	for u, gs := range byUser {
		if gains(roles[u], gs) {
			return true, nil
		}
	}
	return false, nil
}

// chain returns pageID and its ancestors, nearest first; empty when the page does not exist.
func (r *Resolver) chain(ctx context.Context, pageID string) ([]pageNode, error) {
	var nodes []pageNode
	err := r.db.WithContext(ctx).Raw(`WITH RECURSIVE chain(id, drive_id, parent_id, is_private, trashed_at, depth) AS (
			SELECT id, drive_id, parent_id, is_private, trashed_at, 0 FROM pages WHERE id = ?
			UNION ALL
			SELECT p.id, p.drive_id, p.parent_id, p.is_private, p.trashed_at, c.depth + 1
			FROM pages p JOIN chain c ON p.id = c.parent_id WHERE c.depth < ?
		) SELECT id, drive_id, parent_id, is_private, trashed_at FROM chain ORDER BY depth`, pageID, maxDepth).
		Scan(&nodes).Error
	if err != nil {
		return nil, fmt.Errorf("permissions: page chain: %w", err)
	}
	return nodes, nil
}

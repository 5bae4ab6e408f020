package pages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/pagespace/pagespace/modules"
	"gorm.io/gorm"
)

// treeLockClass is the first key of the PostgreSQL advisory lock that serialises changes to the
// shape of one drive's tree (create, move, trash, restore, delete), so that two concurrent moves
// cannot build a cycle or a too-deep tree that neither saw alone. SQLite has one writer anyway.
// The two-key lock space does not overlap the event log's one-key lock. A transaction takes
// the drive's access lock (permissions.LockDrive) before this one, never after, so that the two
// cannot deadlock.
const treeLockClass = 7250

// lockTree takes the tree lock of driveID until tx ends.
func lockTree(tx *gorm.DB, driveID string) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	if err := tx.Exec(fmt.Sprintf("SELECT pg_advisory_xact_lock(%d, hashtext(?))", treeLockClass), driveID).Error; err != nil {
		return fmt.Errorf("pages: lock tree: %w", err)
	}
	return nil
}

// loadRow reads one page with its content.
func loadRow(tx *gorm.DB, id string) (row, error) {
	var r row
	err := tx.Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("pages: load: %w", err)
	}
	return r, nil
}

// loadNode reads one page without its content.
func loadNode(tx *gorm.DB, id string) (row, error) {
	var r row
	err := tx.Select(nodeColumns).Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("pages: load: %w", err)
	}
	return r, nil
}

// driveOf returns the drive of a page (which never changes), or ErrNotFound.
func driveOf(tx *gorm.DB, id string) (string, error) {
	var r row
	err := tx.Select("id, drive_id").Where("id = ?", id).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("pages: drive of page: %w", err)
	}
	return r.DriveID, nil
}

// parentTrashed reports whether the page's parent is in the trash (false at the root).
func parentTrashed(tx *gorm.DB, p row) (bool, error) {
	if p.ParentID == nil {
		return false, nil
	}
	parent, err := loadNode(tx, *p.ParentID)
	if err != nil {
		return false, err
	}
	return parent.TrashedAt != nil, nil
}

// ancestry returns id and its ancestors, nearest first; its length is the depth of id.
func ancestry(tx *gorm.DB, id string) ([]string, error) {
	var ids []string
	err := tx.Raw(`WITH RECURSIVE chain(id, parent_id, depth) AS (
			SELECT id, parent_id, 0 FROM pages WHERE id = ?
			UNION ALL
			SELECT p.id, p.parent_id, c.depth + 1 FROM pages p JOIN chain c ON p.id = c.parent_id WHERE c.depth < ?
		) SELECT id FROM chain ORDER BY depth`, id, walkLimit).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("pages: ancestry: %w", err)
	}
	return ids, nil
}

// subtreeSQL selects id and its descendants (trashed or not) as the CTE sub(id, depth).
const subtreeSQL = `WITH RECURSIVE sub(id, depth) AS (
		SELECT id, 1 FROM pages WHERE id = ?
		UNION ALL
		SELECT p.id, s.depth + 1 FROM pages p JOIN sub s ON p.parent_id = s.id WHERE s.depth < ?
	) `

// height is the number of levels of the subtree under id, id included (1 for a leaf). Trashed
// descendants count, so that restoring them later never breaks MaxDepth.
func height(tx *gorm.DB, id string) (int, error) {
	var h *int
	if err := tx.Raw(subtreeSQL+"SELECT MAX(depth) FROM sub", id, walkLimit).Scan(&h).Error; err != nil {
		return 0, fmt.Errorf("pages: height: %w", err)
	}
	if h == nil {
		return 0, nil
	}
	return *h, nil
}

// subtree returns id and all its descendants, id first.
func subtree(tx *gorm.DB, id string) ([]string, error) {
	var ids []string
	if err := tx.Raw(subtreeSQL+"SELECT id FROM sub ORDER BY depth, id", id, walkLimit).Scan(&ids).Error; err != nil {
		return nil, fmt.Errorf("pages: subtree: %w", err)
	}
	return ids, nil
}

// nextPosition is the position after the last sibling under parentID (nil: the drive root).
func nextPosition(tx *gorm.DB, driveID string, parentID *string) (float64, error) {
	q := tx.Model(&row{}).Where("drive_id = ? AND trashed_at IS NULL", driveID)
	if parentID == nil {
		q = q.Where("parent_id IS NULL")
	} else {
		q = q.Where("parent_id = ?", *parentID)
	}
	var last *float64
	if err := q.Select("MAX(position)").Scan(&last).Error; err != nil {
		return 0, fmt.Errorf("pages: next position: %w", err)
	}
	if last == nil {
		return 1, nil
	}
	return math.Floor(*last) + 1, nil
}

// treeCursor is the position of the last item of a tree page.
type treeCursor struct {
	Parent   string  `json:"p"`
	Position float64 `json:"o"`
	ID       string  `json:"i"`
}

func (c treeCursor) less(d treeCursor) bool {
	if c.Parent != d.Parent {
		return c.Parent < d.Parent
	}
	if c.Position != d.Position {
		return c.Position < d.Position
	}
	return c.ID < d.ID
}

func cursorOf(n Node) treeCursor {
	c := treeCursor{Position: n.Position, ID: n.ID}
	if n.ParentID != nil {
		c.Parent = *n.ParentID
	}
	return c
}

// Tree returns the pages of a drive that the caller may view and that are not in the trash,
// ordered by parent (root pages first), then position, then id. A page whose parent the caller
// may not view is listed at the root, marked Detached. It costs a fixed number of queries
// whatever the size of the tree. Errors: ErrDriveNotFound, invalid cursor.
func (s *Service) Tree(ctx context.Context, driveID string, req modules.PageRequest) (modules.List[Node], error) {
	var after *treeCursor
	if req.Cursor != "" {
		var c treeCursor
		if err := modules.DecodeCursor(req.Cursor, &c); err != nil {
			return modules.List[Node]{}, err
		}
		after = &c
	}
	view, err := s.access.Drive(ctx, modules.UserID(ctx), driveID)
	if err != nil {
		return modules.List[Node]{}, fmt.Errorf("pages: tree: %w", err)
	}
	var rows []row
	if err := s.db.WithContext(ctx).Select(nodeColumns).Where("drive_id = ? AND trashed_at IS NULL", driveID).Find(&rows).Error; err != nil {
		return modules.List[Node]{}, fmt.Errorf("pages: tree: %w", err)
	}
	visible := make(map[string]bool, len(rows))
	for _, r := range rows {
		if view.CanOpen(r.ID) { // the rows are those not in the trash
			visible[r.ID] = true
		}
	}
	if !view.SeesDrive() {
		return modules.List[Node]{}, ErrDriveNotFound
	}
	nodes := make([]Node, 0, len(visible))
	for _, r := range rows {
		if !visible[r.ID] {
			continue
		}
		n := r.node()
		if n.ParentID != nil && !visible[*n.ParentID] {
			n.ParentID, n.Detached = nil, true
		}
		if after != nil && !after.less(cursorOf(n)) {
			continue
		}
		nodes = append(nodes, n)
	}
	sort.Slice(nodes, func(i, j int) bool { return cursorOf(nodes[i]).less(cursorOf(nodes[j])) })
	if len(nodes) > req.Limit+1 {
		nodes = nodes[:req.Limit+1]
	}
	return modules.NewList(nodes, req.Limit, func(n Node) Node { return n }, func(n Node) any { return cursorOf(n) }), nil
}

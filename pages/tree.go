package pages

import (
	"errors"
	"fmt"
	"math"

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

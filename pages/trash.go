package pages

import (
	"context"
	"fmt"
	"sort"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// Trash moves a page and every descendant not yet in the trash to the trash, with the page as
// their trash root. It needs the delete right. Errors: ErrNotFound (also for a page already in
// the trash), ErrForbidden.
func (s *Service) Trash(ctx context.Context, pageID string) error {
	uid := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		pa, err := lockPage(ctx, tx, s.access.In(tx), uid, pageID)
		if err != nil {
			return err
		}
		if pa.Trashed {
			return ErrNotFound
		}
		if !pa.Delete {
			return ErrForbidden
		}
		now := modules.Now()
		if err := tx.Exec(subtreeSQL+`UPDATE pages SET trashed_at = ?, trashed_by = ?, trash_root_id = ?
			WHERE id IN (SELECT id FROM sub) AND trashed_at IS NULL`, pageID, walkLimit, now, uid, pageID).Error; err != nil {
			return fmt.Errorf("pages: trash: %w", err)
		}
		ids, err := trashedWith(tx, pageID)
		if err != nil {
			return err
		}
		root, err := loadNode(tx, pageID)
		if err != nil {
			return err
		}
		rec.Record(draft(EventPageDeleted, uid, pa.DriveID, pageID, PageDeleted{Page: root.node(), PageIDs: ids}))
		return nil
	})
	if err != nil {
		return fmt.Errorf("pages: trash: %w", err)
	}
	return nil
}

// trashedWith returns the pages whose trash root is rootID, the root first.
func trashedWith(tx *gorm.DB, rootID string) ([]string, error) {
	var ids []string
	if err := tx.Model(&row{}).Where("trash_root_id = ?", rootID).Order("id").Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("pages: trashed pages: %w", err)
	}
	out := make([]string, 0, len(ids))
	out = append(out, rootID)
	for _, id := range ids {
		if id != rootID {
			out = append(out, id)
		}
	}
	return out, nil
}

// Restore brings back a trash root and exactly the pages trashed with it. If its parent is still
// in the trash, the page goes to the drive root, after the last root page; like a move, that
// needs share on the page when someone could see it there who could not before. It needs the
// delete right. Errors: ErrNotFound, ErrForbidden, ErrNotTrashed, ErrNotTrashRoot
// (details.trashRootId when the caller may see that page), ErrRestoreWidens.
func (s *Service) Restore(ctx context.Context, pageID string) (Page, error) {
	uid := modules.UserID(ctx)
	var out Page
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		r := s.access.In(tx)
		pa, err := lockPage(ctx, tx, r, uid, pageID)
		if err != nil {
			return err
		}
		if !pa.Delete {
			return ErrForbidden
		}
		cur, err := loadNode(tx, pageID)
		if err != nil {
			return err
		}
		if cur.TrashedAt == nil {
			return ErrNotTrashed
		}
		if cur.TrashRootID == nil || *cur.TrashRootID != pageID {
			if cur.TrashRootID != nil {
				if rpa, err := viewable(ctx, r, uid, *cur.TrashRootID); err == nil && rpa.View {
					return ErrNotTrashRoot.WithDetails(map[string]any{"trashRootId": *cur.TrashRootID})
				}
			}
			return ErrNotTrashRoot
		}
		toRoot, err := parentTrashed(tx, cur)
		if err != nil {
			return err
		}
		if toRoot && !pa.Share { // going to the root is a move, with a move's rule
			widens, err := r.MoveWidens(ctx, pageID, nil)
			if err != nil {
				return err
			}
			if widens {
				return ErrRestoreWidens
			}
		}
		ids, err := trashedWith(tx, pageID)
		if err != nil {
			return err
		}
		if err := tx.Model(&row{}).Where("trash_root_id = ?", pageID).
			Updates(map[string]any{"trashed_at": nil, "trashed_by": nil, "trash_root_id": nil}).Error; err != nil {
			return fmt.Errorf("pages: restore: %w", err)
		}
		if toRoot {
			pos, err := nextPosition(tx, pa.DriveID, nil)
			if err != nil {
				return err
			}
			if err := tx.Model(&row{}).Where("id = ?", pageID).
				Updates(map[string]any{"parent_id": nil, "position": pos}).Error; err != nil {
				return fmt.Errorf("pages: restore to root: %w", err)
			}
		}
		p, err := loadRow(tx, pageID)
		if err != nil {
			return err
		}
		if pa, err = r.Page(ctx, uid, pageID); err != nil {
			return err
		}
		out = p.page(pa)
		rec.Record(draft(EventPageRestored, uid, pa.DriveID, pageID, PageRestored{Page: p.node(), PageIDs: ids}))
		return nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("pages: restore: %w", err)
	}
	return out, nil
}

// Delete removes a page and its whole subtree for good, in the trash or not; the database
// cascades to their revisions, messages, tasks and grants. It needs the delete right. Errors:
// ErrNotFound, ErrForbidden.
func (s *Service) Delete(ctx context.Context, pageID string) error {
	uid := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		pa, err := lockPage(ctx, tx, s.access.In(tx), uid, pageID)
		if err != nil {
			return err
		}
		if !pa.Delete {
			return ErrForbidden
		}
		root, err := loadNode(tx, pageID)
		if err != nil {
			return err
		}
		ids, err := subtree(tx, pageID)
		if err != nil {
			return err
		}
		if err := tx.Exec(subtreeSQL+"DELETE FROM pages WHERE id IN (SELECT id FROM sub)", pageID, walkLimit).Error; err != nil {
			return fmt.Errorf("pages: delete: %w", err)
		}
		rec.Record(draft(EventPageDeleted, uid, pa.DriveID, pageID, PageDeleted{Page: root.node(), PageIDs: ids, Permanent: true}))
		return nil
	})
	if err != nil {
		return fmt.Errorf("pages: delete: %w", err)
	}
	return nil
}

// trashCursor is the position of the last item of a trash page.
type trashCursor struct {
	At int64  `json:"t"` // trashed_at, Unix milliseconds
	ID string `json:"i"`
}

// Trashed lists the trash roots of a drive that the caller may restore or delete, most recently
// trashed first. Errors: ErrDriveNotFound, invalid cursor.
func (s *Service) Trashed(ctx context.Context, driveID string, req modules.PageRequest) (modules.List[TrashItem], error) {
	var after *trashCursor
	if req.Cursor != "" {
		var c trashCursor
		if err := modules.DecodeCursor(req.Cursor, &c); err != nil {
			return modules.List[TrashItem]{}, err
		}
		after = &c
	}
	db := s.db.WithContext(ctx)
	view, err := s.access.Drive(ctx, modules.UserID(ctx), driveID)
	if err != nil {
		return modules.List[TrashItem]{}, fmt.Errorf("pages: trash list: %w", err)
	}
	if !view.SeesDrive() {
		return modules.List[TrashItem]{}, ErrDriveNotFound
	}
	var roots []row
	// The resolution above read every page of the drive already; the trash roots are a part.
	if err := db.Select(nodeColumns).Where("drive_id = ? AND trash_root_id = id", driveID).Find(&roots).Error; err != nil {
		return modules.List[TrashItem]{}, fmt.Errorf("pages: trash list: %w", err)
	}
	key := func(r row) trashCursor { return trashCursor{At: r.TrashedAt.UnixMilli(), ID: r.ID} }
	newer := func(a, b trashCursor) bool { return a.At > b.At || a.At == b.At && a.ID > b.ID }
	sort.Slice(roots, func(i, j int) bool { return newer(key(roots[i]), key(roots[j])) })
	var keep []row
	for _, r := range roots {
		if len(keep) > req.Limit {
			break
		}
		if view.Pages[r.ID].Delete && (after == nil || newer(*after, key(r))) {
			keep = append(keep, r)
		}
	}
	ids := make([]string, len(keep))
	for i, r := range keep {
		ids[i] = r.ID
	}
	counts := map[string]int64{}
	if len(ids) > 0 {
		var cs []struct {
			TrashRootID string
			N           int64
		}
		if err := db.Model(&row{}).Select("trash_root_id, COUNT(*) AS n").Where("trash_root_id IN ?", ids).
			Group("trash_root_id").Scan(&cs).Error; err != nil {
			return modules.List[TrashItem]{}, fmt.Errorf("pages: trash counts: %w", err)
		}
		for _, c := range cs {
			counts[c.TrashRootID] = c.N
		}
	}
	return modules.NewList(keep, req.Limit,
		func(r row) TrashItem {
			n := r.node()
			if view.Pages[r.ID].ParentHidden {
				n.ParentID, n.Detached = nil, true
			}
			return TrashItem{Node: n, TrashedAt: modules.Time(*r.TrashedAt), TrashedBy: r.TrashedBy, PageCount: counts[r.ID]}
		},
		func(r row) any { return key(r) }), nil
}

package pages

import (
	"context"
	"errors"
	"fmt"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
)

// MoveInput is the body of POST /api/pages/{pageId}/move. ParentID must be present: a page id,
// or null for the drive root.
type MoveInput struct {
	ParentID modules.Optional[string] `json:"parentId"`
	Position *float64                 `json:"position"`
}

func (in *MoveInput) validate() error {
	var v modules.Validator
	v.Check(in.ParentID.Set, "parentId", "is required (null for the drive root)")
	if in.ParentID.Set && !in.ParentID.Null {
		v.Check(modules.ValidID(in.ParentID.Value), "parentId", "must be a page id or null")
	}
	v.Check(in.Position != nil, "position", "is required")
	if in.Position != nil {
		checkPosition(&v, *in.Position)
	}
	return v.Err()
}

// Move puts a page (with its subtree) under another parent of the same drive, or reorders it
// among its siblings. It needs edit on the page and on the new parent (at the drive root: the
// MEMBER role or above), and share on the page when the move would let someone see it who
// cannot now: otherwise a member could publish a private page by moving it out of its private
// folder. Errors: invalid input, ErrNotFound, ErrParentNotFound, ErrOtherDrive,
// ErrParentTrashed, ErrCycle, ErrTooDeep, ErrForbidden, ErrMoveWidens.
func (s *Service) Move(ctx context.Context, pageID string, in MoveInput) (Page, error) {
	if err := in.validate(); err != nil {
		return Page{}, err
	}
	uid := modules.UserID(ctx)
	newParent := in.ParentID.Ptr()
	var out Page
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		r := s.access.In(tx)
		pa, err := lockPage(ctx, tx, r, uid, pageID)
		if err != nil {
			return err
		}
		if pa.Trashed {
			return ErrNotFound
		}
		if !pa.Edit {
			return ErrForbidden
		}
		cur, err := loadNode(tx, pageID)
		if err != nil {
			return err
		}
		sameParent := ptrEq(cur.ParentID, newParent)
		if newParent == nil {
			if !canCreateAtRoot(pa.Role) {
				return ErrForbidden
			}
		} else {
			if *newParent == pageID {
				return ErrCycle
			}
			ppa, err := viewable(ctx, r, uid, *newParent)
			switch {
			case errors.Is(err, ErrNotFound):
				return ErrParentNotFound
			case err != nil:
				return err
			case ppa.DriveID != pa.DriveID:
				return ErrOtherDrive
			case ppa.Trashed:
				return ErrParentTrashed
			case !ppa.Edit:
				return ErrForbidden
			}
			if !sameParent {
				chain, err := ancestry(tx, *newParent)
				if err != nil {
					return err
				}
				for _, id := range chain {
					if id == pageID {
						return ErrCycle
					}
				}
				h, err := height(tx, pageID)
				if err != nil {
					return err
				}
				if len(chain)+h > MaxDepth {
					return ErrTooDeep
				}
			}
		}
		if !sameParent && !pa.Share {
			widens, err := r.MoveWidens(ctx, pageID, newParent)
			if err != nil {
				return err
			}
			if widens {
				return ErrMoveWidens
			}
		}
		if sameParent && cur.Position == *in.Position {
			out, err = s.reload(tx, pageID, pa)
			return err
		}
		prevParent, prevPos := cur.ParentID, cur.Position
		now := modules.Now()
		if err := tx.Model(&row{}).Where("id = ?", pageID).
			Updates(map[string]any{"parent_id": newParent, "position": *in.Position, "updated_at": now}).Error; err != nil {
			return fmt.Errorf("pages: move: %w", err)
		}
		cur.ParentID, cur.Position, cur.UpdatedAt = newParent, *in.Position, now
		rec.Record(draft(EventPageMoved, uid, pa.DriveID, pageID,
			PageMoved{Page: cur.node(), PreviousParentID: prevParent, PreviousPosition: prevPos}))
		pa, err = r.Page(ctx, uid, pageID) // moving changes what the page inherits
		if err != nil {
			return err
		}
		out, err = s.reload(tx, pageID, pa)
		return err
	})
	if err != nil {
		return Page{}, fmt.Errorf("pages: move: %w", err)
	}
	return out, nil
}

func (s *Service) reload(tx *gorm.DB, pageID string, pa permissions.PageAccess) (Page, error) {
	p, err := loadRow(tx, pageID)
	if err != nil {
		return Page{}, err
	}
	return p.page(pa), nil
}

func ptrEq(a, b *string) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

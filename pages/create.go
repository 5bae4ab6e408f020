package pages

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
)

// CreateInput is the body of POST /api/drives/{driveId}/pages.
type CreateInput struct {
	Title     string   `json:"title"`
	Type      Type     `json:"type"`
	ParentID  *string  `json:"parentId"`
	Position  *float64 `json:"position"`
	Content   *string  `json:"content"`
	IsPrivate *bool    `json:"isPrivate"`
}

func (in *CreateInput) validate() error {
	var v modules.Validator
	v.Text("title", in.Title, 1, MaxTitle, false)
	v.Check(in.Type.Valid(), "type", "must be one of FOLDER, DOCUMENT, CHANNEL, TASK_LIST")
	if in.ParentID != nil {
		v.Check(modules.ValidID(*in.ParentID), "parentId", "must be a page id or null")
	}
	if in.Position != nil {
		checkPosition(&v, *in.Position)
	}
	if in.Content != nil {
		checkContent(&v, *in.Content)
	}
	return v.Err()
}

// Create adds a page to a drive. Errors: invalid input, ErrDriveNotFound, ErrParentNotFound,
// ErrOtherDrive, ErrParentTrashed, ErrTooDeep, ErrForbidden, ErrShareNeeded.
func (s *Service) Create(ctx context.Context, driveID string, in CreateInput) (Page, error) {
	if err := in.validate(); err != nil {
		return Page{}, err
	}
	uid := modules.UserID(ctx)
	private := in.IsPrivate != nil && *in.IsPrivate
	var out Page
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		r := s.access.In(tx)
		// The access lock the check below takes comes before the tree lock (see lockTree).
		if err := permissions.LockDrive(ctx, tx, driveID, permissions.Shared); err != nil {
			return err
		}
		if err := lockTree(tx, driveID); err != nil {
			return err
		}
		role, err := r.Role(ctx, uid, driveID)
		if err != nil {
			return err
		}
		if role == permissions.NoRole {
			ok, err := driveVisible(ctx, r, uid, driveID)
			if err != nil {
				return err
			}
			if !ok {
				return ErrDriveNotFound
			}
		}
		if in.ParentID == nil {
			if role == permissions.NoRole {
				return ErrDriveNotFound // a grantee sees granted pages, never the drive's root
			}
			if !canCreateAtRoot(role) {
				return ErrForbidden
			}
			if private && !role.Manages() {
				return ErrShareNeeded
			}
		} else {
			pa, err := viewable(ctx, r, uid, *in.ParentID)
			switch {
			case errors.Is(err, ErrNotFound):
				return ErrParentNotFound
			case err != nil:
				return err
			case pa.DriveID != driveID:
				return ErrOtherDrive
			case pa.Trashed:
				return ErrParentTrashed
			case !pa.Edit:
				return ErrForbidden
			case private && !pa.Share:
				return ErrShareNeeded
			}
			chain, err := ancestry(tx, *in.ParentID)
			if err != nil {
				return err
			}
			if len(chain)+1 > MaxDepth {
				return ErrTooDeep
			}
		}
		pos := 0.0
		if in.Position != nil {
			pos = *in.Position
		} else if pos, err = nextPosition(tx, driveID, in.ParentID); err != nil {
			return err
		}
		now := modules.Now()
		p := row{
			ID: modules.NewID(), DriveID: driveID, ParentID: in.ParentID, Title: strings.TrimSpace(in.Title),
			Type: in.Type, Position: pos, IsPrivate: private, Revision: 1, CreatedBy: &uid,
			CreatedAt: now, UpdatedAt: now,
		}
		if in.Content != nil {
			p.Content = *in.Content
		}
		if err := tx.Create(&p).Error; err != nil {
			return fmt.Errorf("pages: create: %w", err)
		}
		if err := tx.Create(&revisionRow{PageID: p.ID, Revision: 1, Title: p.Title, Content: p.Content, AuthorID: &uid, CreatedAt: now}).Error; err != nil {
			return fmt.Errorf("pages: create revision: %w", err)
		}
		pa, err := r.Page(ctx, uid, p.ID)
		if err != nil {
			return err
		}
		out = p.page(pa)
		rec.Record(draft(EventPageCreated, uid, driveID, p.ID, PageCreated{Page: p.node()}))
		return nil
	})
	if err != nil {
		return Page{}, fmt.Errorf("pages: create: %w", err)
	}
	return out, nil
}

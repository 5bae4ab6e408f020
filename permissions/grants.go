package permissions

import (
	"context"
	"errors"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// GrantInfo is an explicit grant as GET /api/pages/{id}/permissions and PUT show it.
type GrantInfo struct {
	PageID    string        `json:"pageId"`
	UserID    string        `json:"userId"`
	Name      string        `json:"name"`
	Email     string        `json:"email"`
	CanView   bool          `json:"canView"`
	CanEdit   bool          `json:"canEdit"`
	CanShare  bool          `json:"canShare"`
	CanDelete bool          `json:"canDelete"`
	ExpiresAt *modules.Time `json:"expiresAt"`
	GrantedBy *string       `json:"grantedBy"`
	CreatedAt modules.Time  `json:"createdAt"`
	UpdatedAt modules.Time  `json:"updatedAt"`
}

func grantInfo(g Grant, u userRow) GrantInfo {
	return GrantInfo{PageID: g.PageID, UserID: g.UserID, Name: u.Name, Email: u.Email,
		CanView: g.CanView, CanEdit: g.CanEdit, CanShare: g.CanShare, CanDelete: g.CanDelete,
		ExpiresAt: modules.TimePtr(g.ExpiresAt), GrantedBy: g.GrantedBy,
		CreatedAt: modules.Time(g.CreatedAt), UpdatedAt: modules.Time(g.UpdatedAt)}
}

func eventPermission(g Grant, u userRow) EventPermission {
	return EventPermission{PageID: g.PageID, UserID: g.UserID, Name: u.Name,
		CanView: g.CanView, CanEdit: g.CanEdit, CanShare: g.CanShare, CanDelete: g.CanDelete,
		ExpiresAt: modules.TimePtr(g.ExpiresAt), GrantedBy: g.GrantedBy,
		CreatedAt: modules.Time(g.CreatedAt), UpdatedAt: modules.Time(g.UpdatedAt)}
}

// within reports whether every right of a is also in b.
func (a Access) within(b Access) bool {
	return (!a.View || b.View) && (!a.Edit || b.Edit) && (!a.Share || b.Share) && (!a.Delete || b.Delete)
}

// sharePage resolves the caller on a page they want to manage grants on: not visible is
// ErrPageNotFound, visible without canShare is ErrForbidden, and writes to a trashed page are
// ErrPageTrashed.
func (s *Service) sharePage(ctx context.Context, db *gorm.DB, userID, pageID string, write bool) (PageAccess, error) {
	pa, err := s.r.In(db).Page(ctx, userID, pageID)
	if err != nil {
		return PageAccess{}, err
	}
	if !pa.View {
		return PageAccess{}, ErrPageNotFound
	}
	if !pa.Share {
		return PageAccess{}, ErrForbidden
	}
	if write && pa.Trashed {
		return PageAccess{}, ErrPageTrashed
	}
	return pa, nil
}

// ListGrants returns the explicit grants on a page, expired ones included, by creation time.
// The caller needs canShare on the page.
func (s *Service) ListGrants(ctx context.Context, pageID string, page modules.PageRequest) (modules.List[GrantInfo], error) {
	userID := modules.UserID(ctx)
	var cur struct {
		T time.Time `json:"t"`
		U string    `json:"u"`
	}
	if page.Cursor != "" {
		if err := modules.DecodeCursor(page.Cursor, &cur); err != nil {
			return modules.List[GrantInfo]{}, err
		}
	}
	if _, err := s.sharePage(ctx, s.db, userID, pageID, false); err != nil {
		return modules.List[GrantInfo]{}, wrap("list grants", err)
	}
	type row struct {
		Grant
		Name, Email string
	}
	q := s.db.WithContext(ctx).Table("page_permissions g").
		Select("g.*, u.name, u.email").
		Joins("JOIN users u ON u.id = g.user_id").Where("g.page_id = ?", pageID)
	if page.Cursor != "" {
		q = q.Where("(g.created_at > ? OR (g.created_at = ? AND g.user_id > ?))", cur.T, cur.T, cur.U)
	}
	var rows []row
	if err := q.Order("g.created_at, g.user_id").Limit(page.Limit + 1).Scan(&rows).Error; err != nil {
		return modules.List[GrantInfo]{}, wrap("list grants", err)
	}
	return modules.NewList(rows, page.Limit, func(r row) GrantInfo {
		return grantInfo(r.Grant, userRow{ID: r.UserID, Name: r.Name, Email: r.Email})
	}, func(r row) any {
		return map[string]any{"t": r.CreatedAt.UTC(), "u": r.UserID}
	}), nil
}

// GrantInput is the body of PUT /api/pages/{id}/permissions/{userId}. The four rights are
// required; ExpiresAt absent or null means the grant does not expire.
type GrantInput struct {
	CanView   *bool         `json:"canView"`
	CanEdit   *bool         `json:"canEdit"`
	CanShare  *bool         `json:"canShare"`
	CanDelete *bool         `json:"canDelete"`
	ExpiresAt *modules.Time `json:"expiresAt"`
}

// PutGrant creates or replaces userID's grant on a page. The caller needs canShare; a caller
// who does not manage the drive can neither grant nor overwrite rights they do not hold, nor
// outlast their own expiring access. Any right implies canView, which is stored as true.
// It reports whether the grant was created (rather than replaced).
func (s *Service) PutGrant(ctx context.Context, pageID, userID string, in GrantInput) (GrantInfo, bool, error) {
	actorID := modules.UserID(ctx)
	var v modules.Validator
	for _, f := range []struct {
		name string
		b    *bool
	}{{"canView", in.CanView}, {"canEdit", in.CanEdit}, {"canShare", in.CanShare}, {"canDelete", in.CanDelete}} {
		v.Check(f.b != nil, f.name, "is required")
	}
	now := modules.Now()
	var expires *time.Time
	if in.ExpiresAt != nil {
		t := time.Time(*in.ExpiresAt).UTC().Truncate(time.Millisecond)
		v.Check(t.After(now), "expiresAt", "must be in the future")
		expires = &t
	}
	if err := v.Err(); err != nil {
		return GrantInfo{}, false, err
	}
	want := Access{Edit: *in.CanEdit, Share: *in.CanShare, Delete: *in.CanDelete}
	want.View = *in.CanView || want.Edit || want.Share || want.Delete

	var out GrantInfo
	created := false
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if err := LockPageDrive(ctx, tx, pageID, Exclusive); err != nil {
			return err
		}
		pa, err := s.sharePage(ctx, tx, actorID, pageID, true)
		if err != nil {
			return err
		}
		var u userRow
		if err := tx.Where("id = ?", userID).Take(&u).Error; errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && u.foreignAgent(pa.DriveID)) {
			return ErrUserNotFound
		} else if err != nil {
			return err
		}
		var prev *Grant
		var old Grant
		if err := tx.Where("page_id = ? AND user_id = ?", pageID, userID).Take(&old).Error; err == nil {
			prev = &old
		} else if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		if !pa.Role.Manages() {
			if !want.within(pa.Access) || (prev != nil && !prev.access().within(pa.Access)) {
				return ErrGrantExceeds
			}
			if pa.Until != nil && (expires == nil || expires.After(*pa.Until)) {
				return ErrGrantExceeds.WithDetails(map[string]any{"fields": map[string]string{
					"expiresAt": "must be set, no later than your own access ends (" + pa.Until.UTC().Format(modules.TimeLayout) + ")"}})
			}
		}
		g := Grant{PageID: pageID, UserID: userID, CanView: want.View, CanEdit: want.Edit, CanShare: want.Share, CanDelete: want.Delete,
			ExpiresAt: expires, GrantedBy: &actorID, CreatedAt: now, UpdatedAt: now}
		if prev != nil {
			g.CreatedAt = prev.CreatedAt
		}
		created = prev == nil
		err = tx.Clauses(clause.OnConflict{
			Columns:   []clause.Column{{Name: "page_id"}, {Name: "user_id"}},
			DoUpdates: clause.AssignmentColumns([]string{"can_view", "can_edit", "can_share", "can_delete", "expires_at", "granted_by", "updated_at"}),
		}).Create(&g).Error
		if err != nil {
			return err
		}
		out = grantInfo(g, u)
		payload := PermissionGrantedPayload{UserID: userID, Permission: eventPermission(g, u), AccessReduced: narrows(prev, g)}
		if prev != nil {
			p := eventPermission(*prev, u)
			payload.Previous = &p
		}
		rec.Record(grantDraft(EventPermissionGranted, actorID, pa.DriveID, pageID, userID, "permission_changed", payload))
		return nil
	})
	if err != nil {
		return GrantInfo{}, false, wrap("put grant", err)
	}
	return out, created, nil
}

// narrows reports whether replacing prev (nil: none) by g may take access away from its holder.
// Without a previous grant, anything short of full, non-expiring rights may override broader
// inherited access.
func narrows(prev *Grant, g Grant) bool {
	if prev == nil {
		return g.access() != fullAccess
	}
	if !prev.access().within(g.access()) {
		return true
	}
	return g.ExpiresAt != nil && (prev.ExpiresAt == nil || g.ExpiresAt.Before(*prev.ExpiresAt))
}

// DeleteGrant revokes userID's grant on a page. The caller needs canShare, and a caller who
// does not manage the drive cannot revoke a grant holding rights they do not hold.
func (s *Service) DeleteGrant(ctx context.Context, pageID, userID string) error {
	actorID := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if err := LockPageDrive(ctx, tx, pageID, Exclusive); err != nil {
			return err
		}
		pa, err := s.sharePage(ctx, tx, actorID, pageID, true)
		if err != nil {
			return err
		}
		var g Grant
		if err := tx.Where("page_id = ? AND user_id = ?", pageID, userID).Take(&g).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return ErrGrantNotFound
		} else if err != nil {
			return err
		}
		if !pa.Role.Manages() && !g.access().within(pa.Access) {
			return ErrGrantExceeds
		}
		var u userRow
		if err := tx.Where("id = ?", userID).Take(&u).Error; err != nil {
			return err
		}
		if err := tx.Where("page_id = ? AND user_id = ?", pageID, userID).Delete(&Grant{}).Error; err != nil {
			return err
		}
		rec.Record(grantDraft(EventPermissionRevoked, actorID, pa.DriveID, pageID, userID, "permission_revoked",
			PermissionRevokedPayload{UserID: userID, Permission: eventPermission(g, u), AccessReduced: g.access() != noAccess}))
		return nil
	})
	return wrap("delete grant", err)
}

package permissions

import (
	"context"
	"fmt"

	"github.com/pagespace/pagespace/modules/auth"
	"gorm.io/gorm"
)

// What other packages ask about memberships. The tables are this package's, so the questions
// are answered here rather than by queries of theirs.

var _ auth.AccountDrives = AccountDrives

// AccountDrives returns, read through tx (the account deletion's transaction), the drives
// userID is a member of and whether it owns one (auth.AccountDrives).
func AccountDrives(ctx context.Context, tx *gorm.DB, userID string) ([]string, bool, error) {
	var owned int64
	if err := tx.WithContext(ctx).Model(&Drive{}).Where("owner_id = ?", userID).Count(&owned).Error; err != nil {
		return nil, false, fmt.Errorf("permissions: account drives: %w", err)
	}
	member, err := memberDrives(ctx, tx, userID)
	return member, owned > 0, err
}

// MemberDrives returns the ids of the drives userID is a member of.
func (r *Resolver) MemberDrives(ctx context.Context, userID string) ([]string, error) {
	return memberDrives(ctx, r.db, userID)
}

func memberDrives(ctx context.Context, db *gorm.DB, userID string) ([]string, error) {
	var ids []string
	if err := db.WithContext(ctx).Model(&Member{}).Where("user_id = ?", userID).Pluck("drive_id", &ids).Error; err != nil {
		return nil, fmt.Errorf("permissions: member drives: %w", err)
	}
	return ids, nil
}

// MemberName is a member of a drive as presence shows it. Kind is the user's (KindUser or
// KindAgent).
type MemberName struct {
	UserID string
	Name   string
	Kind   string
}

// Members returns the members of driveID in the order they joined, with their names and kinds.
func (r *Resolver) Members(ctx context.Context, driveID string) ([]MemberName, error) {
	var out []MemberName
	err := r.db.WithContext(ctx).Table("drive_members AS m").Select("m.user_id, u.name, u.kind").
		Joins("JOIN users u ON u.id = m.user_id").
		Where("m.drive_id = ?", driveID).Order("m.created_at, m.user_id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("permissions: members: %w", err)
	}
	return out, nil
}

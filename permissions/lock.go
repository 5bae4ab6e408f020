package permissions

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// accessLockClass is the first key of the PostgreSQL advisory lock that serialises, per drive,
// the writes an access check authorises with the changes that take access away. Its two-key
// space overlaps neither the event log's one-key lock nor the pages tree lock (class 7250).
const accessLockClass = 7251

// LockMode is how a transaction holds a drive's access lock.
type LockMode int

const (
	// Shared is held by a write from its access check until it commits. Writes in one drive hold
	// it together.
	Shared LockMode = iota
	// Exclusive is held by a change that may take access away: a member removed, a role
	// changed, a grant put or revoked, a page made private, moved, trashed or deleted, a drive
	// deleted. It waits for the writes already checked to commit, and the writes that check
	// after it wait for its commit, then see it.
	Exclusive
)

// LockDrive takes driveID's access lock in tx, held until tx ends, so that no write commits
// on access that a concurrent change has already taken away: either the write commits first
// (and its events come first in the log) or it checks after the change committed.
//
// Resolvers from Resolver.In take the shared lock themselves before every check. A change
// that may take access away calls LockDrive with Exclusive before any check or row lock of its
// transaction: taking it after the shared one could deadlock with another such change. The
// lock comes before the pages tree lock, never after. On SQLite it does nothing: a write
// transaction there begins IMMEDIATE, holding the database's single write lock from its
// first statement (the check) to its commit.
func LockDrive(ctx context.Context, tx *gorm.DB, driveID string, mode LockMode) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	if err := tx.WithContext(ctx).Exec(lockSQL(mode)+"(?, hashtext(?))", accessLockClass, driveID).Error; err != nil {
		return fmt.Errorf("permissions: lock drive: %w", err)
	}
	return nil
}

// LockPageDrive is LockDrive on the drive of pageID (which never changes), in one statement.
// It takes nothing when the page does not exist: the check that follows then finds no page.
func LockPageDrive(ctx context.Context, tx *gorm.DB, pageID string, mode LockMode) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	err := tx.WithContext(ctx).Exec(lockSQL(mode)+"(?, hashtext(drive_id)) FROM pages WHERE id = ?", accessLockClass, pageID).Error
	if err != nil {
		return fmt.Errorf("permissions: lock drive of page: %w", err)
	}
	return nil
}

func lockSQL(mode LockMode) string {
	if mode == Exclusive {
		return "SELECT pg_advisory_xact_lock"
	}
	return "SELECT pg_advisory_xact_lock_shared"
}

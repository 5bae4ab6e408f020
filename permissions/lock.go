package permissions

import (
	"context"
	"fmt"

	"github.com/pagespace/pagespace/modules/pgdriver"
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
//
// On PostgreSQL the lock statement is held back (pgdriver.Defer) and sent in one message with
// the transaction's next statement, which runs once the lock is held, with a snapshot taken
// after it: a check costs one round trip, not two. An error taking the lock is then that next
// statement's.
func LockDrive(ctx context.Context, tx *gorm.DB, driveID string, mode LockMode) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	return lock(ctx, tx, lockSQL(mode)+"($1, hashtext($2))", accessLockClass, driveID)
}

// LockPageDrive is LockDrive on the drive of pageID (which never changes), in one statement.
// It takes nothing when the page does not exist: the check that follows then finds no page.
func LockPageDrive(ctx context.Context, tx *gorm.DB, pageID string, mode LockMode) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	return lock(ctx, tx, lockSQL(mode)+"($1, hashtext(drive_id)) FROM pages WHERE id = $2", accessLockClass, pageID)
}

// lock holds the lock statement back until tx's next statement (PostgreSQL, opened through
// pgdriver). Outside a transaction (a read checked with Resolver.In on the pool) it takes
// nothing: the lock would end with its own statement.
func lock(ctx context.Context, tx *gorm.DB, sql string, class int, key string) error {
	if _, inTx := tx.Statement.ConnPool.(gorm.TxCommitter); !inTx {
		return nil
	}
	if _, err := tx.Statement.ConnPool.ExecContext(ctx, sql, pgdriver.Defer{}, class, key); err != nil {
		return fmt.Errorf("permissions: lock drive: %w", err)
	}
	return nil
}

func lockSQL(mode LockMode) string {
	if mode == Exclusive {
		return "SELECT pg_advisory_xact_lock"
	}
	return "SELECT pg_advisory_xact_lock_shared"
}

package pages

import (
	"context"
	"errors"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
)

// maxPosition bounds positions so that the gaps clients halve keep enough precision.
const maxPosition = 1e15

// updateAttempts is how often an update without expectedRevision retries after losing a race.
const updateAttempts = 5

// ErrShareNeeded refuses making a page private to someone without the share right.
var ErrShareNeeded = modules.E(modules.KindForbidden, "making a page private or public needs the right to share it")

// ErrRestoreWidens refuses, to someone without the share right on the page, a restore that
// would put the page at the drive root (its parent is still in the trash) where someone could
// see it who could not before.
var ErrRestoreWidens = &modules.Error{Kind: modules.KindForbidden, Code: "share_required",
	Message: "restoring this page to the drive root would let more people see it, which needs the right to share it; restore its parent first"}

// ErrMoveWidens refuses, to someone without the share right on the page, a move that would let
// someone see the page who cannot see it now (out of a private folder, under a shared one).
var ErrMoveWidens = &modules.Error{Kind: modules.KindForbidden, Code: "share_required",
	Message: "this move would let more people see the page, which needs the right to share it"}

// errRaced says that a concurrent writer changed the row between reading and writing it.
var errRaced = errors.New("pages: concurrent update")

// Service is the page tree. It is safe for concurrent use.
type Service struct {
	db     *gorm.DB
	log    *eventlog.Log
	access *permissions.Resolver
	doc    DocConfig
	pauses pauses
	// batches queues the ops of each document for group commit (batch.go).
	batches batches
	// contents keeps the content of the documents edited last (batch.go).
	contents contents
}

// NewService returns the service on db, writing through log and asking r for access, with the
// live editing settings doc.
func NewService(db *gorm.DB, log *eventlog.Log, r *permissions.Resolver, doc DocConfig) *Service {
	doc.defaults()
	s := &Service{db: db, log: log, access: r, doc: doc}
	s.pauses.timers = map[string]*time.Timer{}
	s.batches.queues = map[string][]*submission{}
	return s
}

// viewable resolves the caller on a page, answering ErrNotFound when it may not view it.
func viewable(ctx context.Context, r *permissions.Resolver, userID, pageID string) (permissions.PageAccess, error) {
	pa, err := r.Page(ctx, userID, pageID)
	if errors.Is(err, permissions.ErrPageNotFound) || err == nil && !pa.View {
		return pa, ErrNotFound
	}
	return pa, err
}

// lockPage locks the tree of the page's drive, then resolves the caller on the page, answering
// ErrNotFound when it may not view it: a write that changes the tree checks access on the tree
// it will change. A change of the tree may take access away (a page moved under a private
// folder, trashed, deleted), so it holds the drive's access lock exclusively, taken first.
func lockPage(ctx context.Context, tx *gorm.DB, r *permissions.Resolver, userID, pageID string) (permissions.PageAccess, error) {
	driveID, err := driveOf(tx, pageID)
	if err != nil {
		return permissions.PageAccess{}, err
	}
	if err := permissions.LockDrive(ctx, tx, driveID, permissions.Exclusive); err != nil {
		return permissions.PageAccess{}, err
	}
	if err := lockTree(tx, driveID); err != nil {
		return permissions.PageAccess{}, err
	}
	return viewable(ctx, r, userID, pageID)
}

// driveVisible reports whether the user may know that the drive exists (DriveView.SeesDrive).
func driveVisible(ctx context.Context, r *permissions.Resolver, userID, driveID string) (bool, error) {
	v, err := r.Drive(ctx, userID, driveID)
	return v.SeesDrive(), err
}

// canCreateAtRoot reports whether a role may add pages at the drive root.
func canCreateAtRoot(role permissions.Role) bool {
	return role.Manages() || role == permissions.RoleMember
}

func checkContent(v *modules.Validator, s string) {
	v.Check(len(s) <= MaxContent, "content", "must be at most 1 MB")
	v.Check(utf8.ValidString(s), "content", "must be valid UTF-8")
	v.Check(!strings.ContainsRune(s, 0), "content", "must not contain NUL characters")
}

func checkPosition(v *modules.Validator, p float64) {
	v.Check(!math.IsNaN(p) && math.Abs(p) <= maxPosition, "position", "must be a number between -1e15 and 1e15")
}

package pages

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/pages/ot"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
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

// Get returns a page with its content. A trashed page is ErrNotFound unless includeTrashed is
// set and the caller may restore it (has the delete right).
func (s *Service) Get(ctx context.Context, pageID string, includeTrashed bool) (Page, error) {
	db := s.db.WithContext(ctx)
	pa, err := viewable(ctx, s.access, modules.UserID(ctx), pageID)
	if err != nil {
		return Page{}, fmt.Errorf("pages: get: %w", err)
	}
	if pa.Trashed && !(includeTrashed && pa.Delete) {
		return Page{}, ErrNotFound
	}
	p, err := loadRow(db, pageID)
	if err != nil {
		return Page{}, err
	}
	return p.page(pa), nil
}

// UpdateInput is the body of PATCH /api/pages/{pageId}.
type UpdateInput struct {
	Title            modules.Optional[string] `json:"title"`
	Content          modules.Optional[string] `json:"content"`
	IsPrivate        modules.Optional[bool]   `json:"isPrivate"`
	ExpectedRevision modules.Optional[int64]  `json:"expectedRevision"`
	// DocVersion is the document version the new content was edited from (the page's
	// docVersion when the caller read it): the edit is then merged with the ops since.
	DocVersion modules.Optional[int64] `json:"docVersion"`
}

func (in *UpdateInput) validate() error {
	var v modules.Validator
	if in.Title.Set {
		v.Check(!in.Title.Null, "title", "must not be null")
		v.Text("title", in.Title.Value, 1, MaxTitle, false)
	}
	if in.Content.Set {
		v.Check(!in.Content.Null, "content", "must not be null")
		checkContent(&v, in.Content.Value)
	}
	if in.IsPrivate.Set {
		v.Check(!in.IsPrivate.Null, "isPrivate", "must not be null")
	}
	if in.ExpectedRevision.Set && !in.ExpectedRevision.Null {
		v.Check(in.ExpectedRevision.Value >= 1, "expectedRevision", "must be a revision number (1 or more)")
	}
	if in.DocVersion.Set && !in.DocVersion.Null {
		v.Check(in.Content.Set, "docVersion", "goes with content")
		v.Check(in.DocVersion.Value >= 0, "docVersion", "must be a document version (0 or more)")
	}
	if err := v.Err(); err != nil {
		return err
	}
	if !in.Title.Set && !in.Content.Set && !in.IsPrivate.Set {
		return modules.Invalid("nothing to update: send title, content or isPrivate", nil)
	}
	return nil
}

func conflict(current int64) error {
	return ErrConflict.WithDetails(map[string]any{"currentRevision": current})
}

// Update changes a page's title, content or privacy. Each change increments the revision and
// keeps the new title and content in the history; a request that changes nothing changes no
// revision and records no event. With ExpectedRevision the write only happens if the page is
// still at that revision (else ErrConflict with details.currentRevision); two concurrent writers
// of one revision get one success and one conflict. Errors: invalid input, ErrNotFound,
// ErrForbidden, ErrShareNeeded, ErrConflict.
func (s *Service) Update(ctx context.Context, pageID string, in UpdateInput) (Page, error) {
	if err := in.validate(); err != nil {
		return Page{}, err
	}
	for attempt := 1; ; attempt++ {
		p, err := s.update(ctx, pageID, in)
		if errors.Is(err, errRaced) {
			if attempt < updateAttempts {
				continue
			}
			err = ErrConflict
		}
		if err != nil {
			return Page{}, fmt.Errorf("pages: update: %w", err)
		}
		return p, nil
	}
}

func (s *Service) update(ctx context.Context, pageID string, in UpdateInput) (Page, error) {
	uid := modules.UserID(ctx)
	var out Page
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if in.IsPrivate.Set { // making a page private takes access away
			if err := permissions.LockPageDrive(ctx, tx, pageID, permissions.Exclusive); err != nil {
				return err
			}
		}
		pa, err := viewable(ctx, s.access.In(tx), uid, pageID)
		if err != nil {
			return err
		}
		if pa.Trashed {
			return ErrNotFound
		}
		if !pa.Edit {
			return ErrForbidden
		}
		expectRev := in.ExpectedRevision.Set && !in.ExpectedRevision.Null
		read := tx
		if (!expectRev || in.Content.Set) && tx.Dialector.Name() == "postgres" {
			// Last write wins: wait for the row so that the conditional write below cannot
			// lose to a concurrent writer again and again. A new content is a diff against the
			// content at the document's current version, which live editors' ops change
			// without changing the revision: hold it. (SQLite has one writer already.)
			read = tx.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		cur, err := loadRow(read, pageID)
		if err != nil {
			return err
		}
		if expectRev && in.ExpectedRevision.Value != cur.Revision {
			return conflict(cur.Revision)
		}
		now := modules.Now()
		changes := map[string]any{}
		var changed []string
		if in.Title.Set {
			if t := strings.TrimSpace(in.Title.Value); t != cur.Title {
				cur.Title, changes["title"] = t, t
				changed = append(changed, "title")
			}
		}
		var contentOp ot.Op
		before := cur.Content
		if in.Content.Set && in.Content.Value != cur.Content {
			// The whole-text replace is an op on the document's current version, so that live
			// editors transform their ops past it. With docVersion it is the caller's edit of
			// the text at that version, merged with the ops since, so none of them is lost.
			text := in.Content.Value
			if in.DocVersion.Set && !in.DocVersion.Null && in.DocVersion.Value != cur.DocVersion {
				if in.DocVersion.Value > cur.DocVersion {
					return modules.Invalid("docVersion is ahead of the document", map[string]any{"docVersion": cur.DocVersion})
				}
				if contentOp, err = rebase(tx, pageID, in.DocVersion.Value, cur.DocVersion, cur.Content, text); err != nil {
					return err
				}
				if text, err = contentOp.Apply(cur.Content); err != nil {
					return fmt.Errorf("pages: merge content: %w", err)
				}
				if len(text) > MaxContent {
					return ErrDocTooLarge
				}
			} else {
				contentOp = ot.Diff(cur.Content, text)
			}
			if text != cur.Content {
				cur.Content, changes["content"] = text, text
				changes["doc_version"] = cur.DocVersion + 1
				changes["revision_doc_version"] = cur.DocVersion + 1
				changed = append(changed, "content")
			}
		}
		if in.IsPrivate.Set && in.IsPrivate.Value != cur.IsPrivate {
			if !pa.Share {
				return ErrShareNeeded
			}
			cur.IsPrivate, changes["is_private"] = in.IsPrivate.Value, in.IsPrivate.Value
			changed = append(changed, "isPrivate")
		}
		if len(changed) == 0 {
			out = cur.page(pa)
			return nil
		}
		changes["revision"] = gorm.Expr("revision + 1")
		changes["updated_at"] = now
		res := tx.Model(&row{}).Where("id = ? AND revision = ? AND trashed_at IS NULL", pageID, cur.Revision).Updates(changes)
		if res.Error != nil {
			return fmt.Errorf("pages: update: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			// Someone committed between our read and our write (PostgreSQL re-checks the
			// WHERE clause against the committed row). Read what they left.
			latest, err := loadNode(tx, pageID)
			switch {
			case err != nil:
				return err
			case latest.TrashedAt != nil:
				return ErrNotFound
			case expectRev:
				return conflict(latest.Revision)
			}
			return errRaced
		}
		cur.Revision++
		cur.UpdatedAt = now
		if _, ok := changes["content"]; ok {
			cur.DocVersion++
			if err := s.storeOp(tx, rec, pageID, cur.DriveID, cur.DocVersion, uid, contentOp, before, RESTClientID, cur.DocVersion, now); err != nil {
				return err
			}
		}
		if err := tx.Create(&revisionRow{PageID: pageID, Revision: cur.Revision, Title: cur.Title, Content: cur.Content, AuthorID: &uid, CreatedAt: now}).Error; err != nil {
			return fmt.Errorf("pages: store revision: %w", err)
		}
		ev := PageUpdated{Page: cur.node(), Fields: changed, Revision: cur.Revision}
		if _, ok := changes["content"]; ok {
			if len(cur.Content) <= MaxEventContent {
				c := cur.Content
				ev.Content = &c
			} else {
				ev.ContentOmitted = true
			}
		}
		rec.Record(draft(EventPageUpdated, uid, cur.DriveID, pageID, ev))
		out = cur.page(pa)
		return nil
	})
	return out, err
}

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

// revisionCursor is the last revision of a history page.
type revisionCursor struct {
	Revision int64 `json:"r"`
}

// viewLive resolves a page that is not in the trash for reading.
func (s *Service) viewLive(ctx context.Context, pageID string) error {
	pa, err := viewable(ctx, s.access, modules.UserID(ctx), pageID)
	if err != nil {
		return err
	}
	if pa.Trashed {
		return ErrNotFound
	}
	return nil
}

// Revisions lists a page's history, newest first, without content. It needs view on a page that
// is not in the trash. Errors: ErrNotFound, invalid cursor.
func (s *Service) Revisions(ctx context.Context, pageID string, req modules.PageRequest) (modules.List[Revision], error) {
	var after *revisionCursor
	if req.Cursor != "" {
		var c revisionCursor
		if err := modules.DecodeCursor(req.Cursor, &c); err != nil {
			return modules.List[Revision]{}, err
		}
		if c.Revision < 1 {
			return modules.List[Revision]{}, modules.Invalid("invalid cursor", nil)
		}
		after = &c
	}
	if err := s.viewLive(ctx, pageID); err != nil {
		return modules.List[Revision]{}, fmt.Errorf("pages: revisions: %w", err)
	}
	q := s.db.WithContext(ctx).Select("page_id, revision, title, author_id, created_at").Where("page_id = ?", pageID)
	if after != nil {
		q = q.Where("revision < ?", after.Revision)
	}
	var rows []revisionRow
	if err := q.Order("revision DESC").Limit(req.Limit + 1).Find(&rows).Error; err != nil {
		return modules.List[Revision]{}, fmt.Errorf("pages: revisions: %w", err)
	}
	return modules.NewList(rows, req.Limit, func(r revisionRow) Revision { return r.view(false) },
		func(r revisionRow) any { return revisionCursor{Revision: r.Revision} }), nil
}

// RestoreRevision makes a revision's content the page's content again (its title stays). The
// restore is a whole-text replace of the current text, as PATCH with content and no docVersion:
// one op, the minimal diff from the current text, that live editors receive as a doc_op and
// transform their ops in flight past, so no keystroke is lost. It makes a new revision; a
// restore that changes nothing answers the page as it is. It needs edit. Errors: ErrNotFound,
// ErrPageTrashed, ErrForbidden, ErrRevisionNotFound.
func (s *Service) RestoreRevision(ctx context.Context, pageID string, revision int64) (Page, error) {
	pa, err := viewable(ctx, s.access, modules.UserID(ctx), pageID)
	switch {
	case err != nil:
	case pa.Trashed:
		err = ErrPageTrashed
	case !pa.Edit:
		err = ErrForbidden
	}
	if err != nil {
		return Page{}, fmt.Errorf("pages: restore revision: %w", err)
	}
	var contents []string
	if err := s.db.WithContext(ctx).Model(&revisionRow{}).Where("page_id = ? AND revision = ?", pageID, revision).
		Limit(1).Pluck("content", &contents).Error; err != nil {
		return Page{}, fmt.Errorf("pages: restore revision: %w", err)
	}
	if len(contents) == 0 {
		return Page{}, fmt.Errorf("pages: restore revision: %w", ErrRevisionNotFound)
	}
	return s.Update(ctx, pageID, UpdateInput{Content: modules.Optional[string]{Set: true, Value: contents[0]}})
}

// Revision returns one revision of a page with its content. Errors: ErrNotFound,
// ErrRevisionNotFound.
func (s *Service) Revision(ctx context.Context, pageID string, revision int64) (Revision, error) {
	if err := s.viewLive(ctx, pageID); err != nil {
		return Revision{}, fmt.Errorf("pages: revision: %w", err)
	}
	var r revisionRow
	err := s.db.WithContext(ctx).Where("page_id = ? AND revision = ?", pageID, revision).Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Revision{}, ErrRevisionNotFound
	}
	if err != nil {
		return Revision{}, fmt.Errorf("pages: revision: %w", err)
	}
	return r.view(true), nil
}

package pages

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/pages/ot"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

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

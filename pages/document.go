package pages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/pages/ot"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Limits of live co-editing. The document itself is bounded by MaxContent.
const (
	// MaxOpComponents is the most components (retains, inserts, deletes) one op may have.
	MaxOpComponents = 10_000
	// MaxOpInsert is the most bytes of text one op may insert.
	MaxOpInsert = 256 << 10
	// MaxClientID is the longest clientId, in bytes.
	MaxClientID = 64
)

// DocConfig holds the settings of live co-editing. Zero values take the defaults noted.
type DocConfig struct {
	// KeepOps is how many of the newest ops of each document are kept for catch-up and for
	// transforming ops based on an older version; an op based on an older version is refused
	// with ErrTooOld. Default 1,000.
	KeepOps int64
	// RevisionEvery makes a revision every RevisionEvery ops (of the content after the group
	// of ops, see batch.go, that reaches a multiple of it): the content is kept in the page's
	// history, its revision incremented and page_updated recorded (the coalesced news
	// of typing for those who watch the drive and not the document). Default 100.
	RevisionEvery int64
	// PauseRevision makes a revision of a document with edits no revision holds once no op
	// has come for this long, so that a short edit reaches the drive's watchers too. Default
	// 10s.
	PauseRevision time.Duration
}

func (c *DocConfig) defaults() {
	if c.KeepOps <= 0 {
		c.KeepOps = 1000
	}
	if c.RevisionEvery <= 0 {
		c.RevisionEvery = 100
	}
	if c.PauseRevision <= 0 {
		c.PauseRevision = 10 * time.Second
	}
}

// Errors of live co-editing.
var (
	ErrNotDocument = modules.E(modules.KindInvalid, "live editing is for DOCUMENT pages")
	ErrTooOld      = &modules.Error{Kind: modules.KindConflict, Code: "too_old",
		Message: "the ops after this version are no longer kept; open the document again"}
	ErrOpMismatch  = modules.E(modules.KindInvalid, "the op does not fit the document at its version (base length)")
	ErrDocTooLarge = modules.E(modules.KindTooLarge, "the document would be larger than 1 MB")
	ErrOpTooLarge  = modules.E(modules.KindTooLarge, "the op is too large (at most 10,000 components and 256 KiB of inserted text)")
)

// EventDocOp is recorded for every op applied to a document. It is addressed to the page's room
// only: editors apply it, while watchers of the drive see the coalesced page_updated of a
// revision.
const EventDocOp = "doc_op"

// DocOp is one applied op, as doc_ops answers and the doc_op event carries it.
type DocOp struct {
	Version  int64  `json:"version"` // the version this op made
	Op       ot.Op  `json:"op"`
	UserID   string `json:"userId"`
	ClientID string `json:"clientId"`
	Seq      int64  `json:"seq"`
}

// Doc is a document at a version.
type Doc struct {
	PageID  string `json:"pageId"`
	Version int64  `json:"version"`
	Content string `json:"content"`
}

// opRow is a doc_ops row.
type opRow struct {
	PageID    string `gorm:"primaryKey"`
	Version   int64  `gorm:"primaryKey"`
	Op        string
	Inverse   string
	UserID    *string
	ClientID  string
	Seq       int64
	CreatedAt time.Time
}

func (opRow) TableName() string { return "doc_ops" }

func (r opRow) docOp() (DocOp, error) {
	op, err := ot.ParseJSON([]byte(r.Op))
	if err != nil {
		return DocOp{}, fmt.Errorf("pages: stored op %s@%d: %w", r.PageID, r.Version, err)
	}
	d := DocOp{Version: r.Version, Op: op, ClientID: r.ClientID, Seq: r.Seq}
	if r.UserID != nil {
		d.UserID = *r.UserID
	}
	return d, nil
}

// docRow is what live editing reads of a page.
type docRow struct {
	ID         string
	DriveID    string
	Type       Type
	Title      string
	Content    string
	Revision   int64
	DocVersion int64
	TrashedAt  *time.Time
}

// documentAccess resolves userID on a DOCUMENT page: ErrNotFound when it may not view it or it
// is in the trash, ErrNotDocument for another type.
func documentAccess(ctx context.Context, r *permissions.Resolver, userID, pageID string) (permissions.PageAccess, error) {
	pa, err := r.PageOfType(ctx, userID, pageID, string(TypeDocument))
	switch {
	case errors.Is(err, permissions.ErrPageNotFound):
		return pa, ErrNotFound
	case errors.Is(err, permissions.ErrWrongPageType):
		return pa, ErrNotDocument
	}
	return pa, err
}

// Open returns a document's content and version. It needs view on a DOCUMENT page not in the
// trash. Errors: ErrNotFound, ErrNotDocument.
func (s *Service) Open(ctx context.Context, userID, pageID string) (Doc, error) {
	if _, err := documentAccess(ctx, s.access, userID, pageID); err != nil {
		return Doc{}, fmt.Errorf("pages: open: %w", err)
	}
	var d docRow
	err := s.db.WithContext(ctx).Model(&row{}).Select("id, content, doc_version").Where("id = ?", pageID).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Doc{}, ErrNotFound
	}
	if err != nil {
		return Doc{}, fmt.Errorf("pages: open: %w", err)
	}
	return Doc{PageID: pageID, Version: d.DocVersion, Content: d.Content}, nil
}

// checkClient validates an op's identity: clientId 1..64 bytes of printable UTF-8, seq ≥ 0.
func checkClient(clientID string, seq int64) error {
	var v modules.Validator
	v.Check(clientID != "" && len(clientID) <= MaxClientID && utf8.ValidString(clientID) &&
		!strings.ContainsFunc(clientID, func(r rune) bool { return r < 0x20 || r == 0x7f }),
		"clientId", "must be 1 to 64 bytes of printable text")
	v.Check(clientID != RESTClientID, "clientId", `"rest" is reserved for the ops of PATCH /api/pages/{pageId}`)
	v.Check(seq >= 0 && seq <= 1<<53, "seq", "must be an integer from 0 to 2^53")
	return v.Err()
}

// Submit applies op, based on version base, to a DOCUMENT page: it is transformed past every
// op applied after base (the submitted op first on ties, see ot.Transform), applied, stored
// with the new content and recorded as a doc_op event in one transaction, whose access check
// holds the drive's access lock until commit. Ops submitted to one document while a transaction
// of its ops is running are committed together in the next (group commit, see batch.go), each
// checked, transformed and stored as if alone. It returns the version the op became. An op
// already applied under the same (clientID, seq) changes nothing and returns the version it
// became then. It also returns the id of the last event the transaction recorded (0 for an op
// applied before, when nothing else was committed with it), for a caller that must know when the
// op was dispatched: the event log's Flush after commit gives up when ctx ends. It needs edit on
// a DOCUMENT page not in the trash. Errors: invalid input, ErrNotFound, ErrNotDocument,
// ErrForbidden, ErrTooOld, ErrOpMismatch, ErrOpTooLarge, ErrDocTooLarge.
func (s *Service) Submit(ctx context.Context, userID, pageID string, base int64, op ot.Op, clientID string, seq int64) (version, eventID int64, err error) {
	if err := checkClient(clientID, seq); err != nil {
		return 0, 0, err
	}
	if base < 0 {
		return 0, 0, modules.Invalid("version must be 0 or more", nil)
	}
	if op.Len() > MaxOpComponents || op.InsertedBytes() > MaxOpInsert {
		return 0, 0, ErrOpTooLarge
	}
	sub := &submission{userID: userID, base: base, op: op, clientID: clientID, seq: seq, done: make(chan struct{})}
	if err := s.batches.enqueue(s, pageID, sub); err != nil {
		return 0, 0, err
	}
	select {
	case <-sub.done:
	case <-ctx.Done():
		// The op may still be committed; the client learns it by catch-up or resubmission.
		return 0, 0, fmt.Errorf("pages: submit: %w", ctx.Err())
	}
	if sub.err != nil {
		return 0, 0, fmt.Errorf("pages: submit: %w", sub.err)
	}
	return sub.version, sub.eventID, nil
}

// lockDoc reads a page for a write of its content, holding its row until commit (PostgreSQL;
// SQLite has one writer).
func lockDoc(tx *gorm.DB, pageID string) (docRow, error) {
	return lockColumns(tx, pageID, "id, drive_id, type, title, content, revision, doc_version, trashed_at")
}

// lockColumns is lockDoc reading only the given columns of docRow.
func lockColumns(tx *gorm.DB, pageID, columns string) (docRow, error) {
	q := tx.Model(&row{})
	if tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var d docRow
	err := q.Select(columns).Where("id = ?", pageID).Take(&d).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return d, ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("pages: read document: %w", err)
	}
	return d, nil
}

// opRows returns the op rows after version since up to version upTo, or ErrTooOld when some
// are no longer kept.
func opRows(db *gorm.DB, pageID string, since, upTo int64) ([]opRow, error) {
	if since >= upTo {
		return nil, nil
	}
	var rows []opRow
	if err := db.Where("page_id = ? AND version > ? AND version <= ?", pageID, since, upTo).Order("version").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("pages: read ops: %w", err)
	}
	if int64(len(rows)) != upTo-since {
		return nil, ErrTooOld
	}
	return rows, nil
}

// opsAfter returns the ops after version since up to version upTo, or ErrTooOld when some are
// no longer kept.
func opsAfter(db *gorm.DB, pageID string, since, upTo int64) ([]DocOp, error) {
	rows, err := opRows(db, pageID, since, upTo)
	if err != nil {
		return nil, err
	}
	out := make([]DocOp, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.docOp(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// storeOp stores op (on the text before) as the given version of a page's document, prunes the ops no longer kept
// and records the doc_op event. The caller has written the content.
func (s *Service) storeOp(tx *gorm.DB, rec *eventlog.Recorder, pageID, driveID string, version int64, userID string, op ot.Op, before, clientID string, seq int64, now time.Time) error {
	opJSON, err := op.MarshalJSON()
	if err != nil {
		return fmt.Errorf("pages: encode op: %w", err)
	}
	inv, err := op.Invert(before)
	if err != nil {
		return fmt.Errorf("pages: invert op: %w", err)
	}
	invJSON, err := inv.MarshalJSON()
	if err != nil {
		return fmt.Errorf("pages: encode op: %w", err)
	}
	var uid *string
	if userID != "" {
		uid = &userID
	}
	if err := tx.Create(&opRow{PageID: pageID, Version: version, Op: string(opJSON), Inverse: string(invJSON), UserID: uid, ClientID: clientID, Seq: seq, CreatedAt: now}).Error; err != nil {
		return fmt.Errorf("pages: store op: %w", err)
	}
	if version > s.doc.KeepOps {
		if err := tx.Where("page_id = ? AND version <= ?", pageID, version-s.doc.KeepOps).Delete(&opRow{}).Error; err != nil {
			return fmt.Errorf("pages: prune ops: %w", err)
		}
	}
	rec.Record(eventlog.Draft{Type: EventDocOp, DriveID: driveID, PageID: pageID, ActorID: userID,
		Rooms:   []modules.Room{modules.PageRoom(pageID)},
		Payload: DocOp{Version: version, Op: op, UserID: userID, ClientID: clientID, Seq: seq}})
	return nil
}

// snapshot keeps the page's current title and content as its (already incremented) revision
// and records page_updated.
func (s *Service) snapshot(ctx context.Context, tx *gorm.DB, rec *eventlog.Recorder, pageID, userID string) error {
	cur, err := loadRow(tx, pageID)
	if err != nil {
		return err
	}
	var author *string
	if userID != "" {
		author = &userID
	}
	if err := tx.Create(&revisionRow{PageID: pageID, Revision: cur.Revision, Title: cur.Title, Content: cur.Content, AuthorID: author, CreatedAt: cur.UpdatedAt}).Error; err != nil {
		return fmt.Errorf("pages: store revision: %w", err)
	}
	ev := PageUpdated{Page: cur.node(), Fields: []string{"content"}, Revision: cur.Revision}
	if len(cur.Content) <= MaxEventContent {
		c := cur.Content
		ev.Content = &c
	} else {
		ev.ContentOmitted = true
	}
	rec.Record(draft(EventPageUpdated, userID, cur.DriveID, pageID, ev))
	return nil
}

// OpsSince returns a document's version and the ops after since, oldest first. It needs view
// on a DOCUMENT page not in the trash. Errors: invalid input, ErrNotFound, ErrNotDocument,
// ErrTooOld.
func (s *Service) OpsSince(ctx context.Context, userID, pageID string, since int64) (int64, []DocOp, error) {
	if since < 0 {
		return 0, nil, modules.Invalid("since must be 0 or more", nil)
	}
	if _, err := documentAccess(ctx, s.access, userID, pageID); err != nil {
		return 0, nil, fmt.Errorf("pages: ops: %w", err)
	}
	db := s.db.WithContext(ctx)
	var versions []int64
	if err := db.Model(&row{}).Where("id = ?", pageID).Pluck("doc_version", &versions).Error; err != nil {
		return 0, nil, fmt.Errorf("pages: ops: %w", err)
	}
	if len(versions) == 0 {
		return 0, nil, ErrNotFound
	}
	version := versions[0]
	if since > version {
		return 0, nil, modules.Invalid("since is ahead of the document", map[string]any{"version": version})
	}
	ops, err := opsAfter(db, pageID, since, version)
	if err != nil {
		return 0, nil, fmt.Errorf("pages: ops: %w", err)
	}
	return version, ops, nil
}

// RESTClientID is the clientId of the ops that PATCH /api/pages/{pageId} makes of a new content;
// their seq is the version they became.
const RESTClientID = "rest"

// rebase turns a whole-text replace of the text at version base into an op on current, the
// text at version cur: it rebuilds the text at base from current with the inverses of the ops
// after it, diffs it with text, and transforms the diff past those ops (the diff first on ties,
// as a client's op). It answers ErrTooOld when the ops after base are no longer kept.
func rebase(tx *gorm.DB, pageID string, base, cur int64, current, text string) (ot.Op, error) {
	rows, err := opRows(tx, pageID, base, cur)
	if err != nil {
		return ot.Op{}, err
	}
	old := current
	for i := len(rows) - 1; i >= 0; i-- {
		inv, err := ot.ParseJSON([]byte(rows[i].Inverse))
		if err == nil {
			old, err = inv.Apply(old)
		}
		if err != nil {
			return ot.Op{}, fmt.Errorf("pages: rebuild version %d: %w", rows[i].Version-1, err)
		}
	}
	op := ot.Diff(old, text)
	for _, r := range rows {
		d, err := r.docOp()
		if err == nil {
			op, _, err = ot.Transform(op, d.Op)
		}
		if err != nil {
			return ot.Op{}, fmt.Errorf("pages: rebase past version %d: %w", r.Version, err)
		}
	}
	return op, nil
}

// pauses holds the timers of the pause revisions, one per document edited through this
// process since its last pause.
type pauses struct {
	mu      sync.Mutex
	timers  map[string]*time.Timer
	running sync.WaitGroup
	closed  bool
}

// afterOp (re)starts the pause timer of a document that just took an op.
func (s *Service) afterOp(pageID string) {
	p := &s.pauses
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	if t := p.timers[pageID]; t != nil && t.Stop() {
		t.Reset(s.doc.PauseRevision)
		return
	}
	p.timers[pageID] = time.AfterFunc(s.doc.PauseRevision, func() {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return
		}
		delete(p.timers, pageID)
		p.running.Add(1)
		p.mu.Unlock()
		defer p.running.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = s.pauseRevision(ctx, pageID) // a failure leaves the edits for the next revision
	})
}

// Close makes the revisions of the documents edited since their last pause, and stops the
// pause timers. Call it before closing the database.
func (s *Service) Close(ctx context.Context) {
	s.batches.close() // the ops queued are committed first
	p := &s.pauses
	p.mu.Lock()
	p.closed = true
	var pending []string
	for id, t := range p.timers {
		if t.Stop() {
			pending = append(pending, id)
		}
	}
	p.timers = map[string]*time.Timer{}
	p.mu.Unlock()
	p.running.Wait()
	for _, id := range pending {
		_ = s.pauseRevision(ctx, id)
	}
}

// pauseRevision makes a revision of a document whose edits no revision holds yet, with
// page_updated, as the author of its last op. A trashed or deleted page gets none.
func (s *Service) pauseRevision(ctx context.Context, pageID string) error {
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		if err := permissions.LockPageDrive(ctx, tx, pageID, permissions.Shared); err != nil {
			return err
		}
		d, err := lockDoc(tx, pageID)
		if err != nil {
			return err
		}
		var r row
		if err := tx.Select("revision_doc_version").Where("id = ?", pageID).Take(&r).Error; err != nil {
			return fmt.Errorf("pages: read revision version: %w", err)
		}
		if d.TrashedAt != nil || d.DocVersion <= r.RevisionDocVersion {
			return nil
		}
		var last []opRow
		if err := tx.Where("page_id = ? AND version = ?", pageID, d.DocVersion).Limit(1).Find(&last).Error; err != nil {
			return fmt.Errorf("pages: read last op: %w", err)
		}
		author := ""
		if len(last) > 0 && last[0].UserID != nil {
			author = *last[0].UserID
		}
		if err := tx.Model(&row{}).Where("id = ?", pageID).
			Updates(map[string]any{"revision": d.Revision + 1, "revision_doc_version": d.DocVersion}).Error; err != nil {
			return fmt.Errorf("pages: pause revision: %w", err)
		}
		return s.snapshot(ctx, tx, rec, pageID, author)
	})
	return err
}

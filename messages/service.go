package messages

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Service runs the messages of channels. It is safe for concurrent use.
type Service struct {
	db     *gorm.DB
	log    *eventlog.Log
	r      *permissions.Resolver
	cfg    StreamConfig
	deltas Deltas           // nil: nobody watches streams
	chunks *modules.Buckets // the chunk rate per author
}

// NewService returns the service on db, writing through log and asking r for access, with the
// limits of streamed messages in cfg (zero values: the defaults), handing their chunks to deltas
// (nil: nobody).
func NewService(db *gorm.DB, log *eventlog.Log, r *permissions.Resolver, cfg StreamConfig, deltas Deltas) *Service {
	cfg.Defaults()
	return &Service{db: db, log: log, r: r, cfg: cfg, deltas: deltas, chunks: modules.NewBuckets(cfg.ChunkRate, cfg.ChunkBurst)}
}

// ListInput selects a page of messages.
type ListInput struct {
	PageID   string
	ParentID string // "" lists top-level messages; else the replies of that message
	Limit    int
	Cursor   string
}

// List returns messages of a channel, newest first. Errors: ErrPageNotFound, ErrNotChannel,
// ErrNotFound (unknown parent), invalid_request (bad cursor).
func (s *Service) List(ctx context.Context, in ListInput) (modules.List[View], error) {
	var cur *cursor
	if in.Cursor != "" {
		var c cursor
		if err := modules.DecodeCursor(in.Cursor, &c); err != nil {
			return modules.List[View]{}, err
		}
		if c.ID == "" || c.At <= 0 {
			return modules.List[View]{}, modules.Invalid("invalid cursor", nil)
		}
		cur = &c
	}
	db := s.db.WithContext(ctx)
	if _, err := channel(ctx, s.r, modules.UserID(ctx), in.PageID); err != nil {
		return modules.List[View]{}, fmt.Errorf("messages: list: %w", err)
	}
	q := selectRows(db).Where("m.page_id = ?", in.PageID)
	if in.ParentID != "" {
		var n int64
		err := db.Model(&Message{}).Where("id = ? AND page_id = ? AND parent_id IS NULL", in.ParentID, in.PageID).Count(&n).Error
		if err != nil {
			return modules.List[View]{}, fmt.Errorf("messages: list: parent: %w", err)
		}
		if n == 0 {
			return modules.List[View]{}, ErrNotFound
		}
		q = q.Where("m.parent_id = ?", in.ParentID)
	} else {
		q = q.Where("m.parent_id IS NULL")
	}
	if cur != nil {
		at := time.UnixMilli(cur.At).UTC()
		q = q.Where("(m.created_at < ? OR (m.created_at = ? AND m.id < ?))", at, at, cur.ID)
	}
	var rows []row
	if err := q.Order("m.created_at DESC, m.id DESC").Limit(in.Limit + 1).Scan(&rows).Error; err != nil {
		return modules.List[View]{}, fmt.Errorf("messages: list: %w", err)
	}
	return modules.NewList(rows, in.Limit, row.view, func(r row) any {
		return cursor{At: r.CreatedAt.UnixMilli(), ID: r.ID}
	}), nil
}

// PostInput is the body of a new message.
type PostInput struct {
	Content  string  `json:"content"`
	ParentID *string `json:"parentId"`
}

// Post adds a message (a reply when ParentID is set) as the caller. Errors: ErrPageNotFound,
// ErrNotChannel, ErrCannotPost, invalid_request.
func (s *Service) Post(ctx context.Context, pageID string, in PostInput) (View, error) {
	content := strings.TrimSpace(in.Content)
	var v modules.Validator
	v.Text("content", content, 1, MaxContent, true)
	checkParentID(&v, in.ParentID)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	out, err := s.create(ctx, pageID, in.ParentID, Message{Content: content, Status: StatusComplete})
	if err != nil {
		return View{}, fmt.Errorf("messages: post: %w", err)
	}
	return out, nil
}

// checkParentID checks the shape of a reply's parentId (whether it names a top-level message is
// create's to check).
func checkParentID(v *modules.Validator, parentID *string) {
	if parentID != nil {
		v.Check(modules.ValidID(*parentID), "parentId", errParentNotTopLvl)
	}
}

// create adds m (its content and status set) as the caller's message in the channel, a reply
// when parentID is set, and records new_message. Errors: ErrPageNotFound, ErrNotChannel,
// ErrCannotPost, invalid_request (parentID).
func (s *Service) create(ctx context.Context, pageID string, parentID *string, m Message) (View, error) {
	uid := modules.UserID(ctx)
	var out View
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		pa, err := channel(ctx, s.r.In(tx), uid, pageID)
		if err != nil {
			return err
		}
		if !pa.Edit {
			return ErrCannotPost
		}
		if parentID != nil {
			// The share lock keeps the parent from being deleted before this reply commits, so
			// a delete that counts replies never misses it.
			var parent Message
			err := tx.Clauses(clause.Locking{Strength: "SHARE"}).
				Where("id = ? AND page_id = ? AND parent_id IS NULL AND deleted_at IS NULL", *parentID, pageID).
				Take(&parent).Error
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return modules.Invalid("parentId "+errParentNotTopLvl, map[string]any{"fields": map[string]string{"parentId": errParentNotTopLvl}})
			}
			if err != nil {
				return err
			}
		}
		now := modules.Now()
		m.ID, m.PageID, m.AuthorID, m.ParentID, m.CreatedAt, m.UpdatedAt = modules.NewID(), pageID, &uid, parentID, now, now
		id, _ := modules.IdentityFrom(ctx)
		r, err := insertRow(tx, m, id.Name)
		if err != nil {
			return err
		}
		out = r.view()
		rec.Record(draft(EventNewMessage, pa, uid, NewMessage{Message: out}))
		return nil
	})
	return out, err
}

// Get returns one message of a channel (a tombstone too). Errors: ErrPageNotFound, ErrNotChannel,
// ErrNotFound.
func (s *Service) Get(ctx context.Context, pageID, messageID string) (View, error) {
	if _, err := channel(ctx, s.r, modules.UserID(ctx), pageID); err != nil {
		return View{}, fmt.Errorf("messages: get: %w", err)
	}
	r, err := loadRow(s.db.WithContext(ctx), messageID)
	if err == nil && r.PageID != pageID {
		err = ErrNotFound
	}
	if err != nil {
		return View{}, fmt.Errorf("messages: get: %w", err)
	}
	return r.view(), nil
}

// EditInput is the body of an edit.
type EditInput struct {
	Content string `json:"content"`
}

// Edit replaces the content of the caller's own message and sets editedAt. An edit that
// changes nothing answers the message as it is and records no event. Errors: ErrPageNotFound,
// ErrNotChannel, ErrNotFound, ErrNotAuthor, ErrCannotPost, ErrStreaming, invalid_request.
func (s *Service) Edit(ctx context.Context, pageID, messageID string, in EditInput) (View, error) {
	uid := modules.UserID(ctx)
	content := strings.TrimSpace(in.Content)
	var v modules.Validator
	v.Text("content", content, 1, MaxContent, true)
	if err := v.Err(); err != nil {
		return View{}, err
	}
	var out View
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		pa, m, err := s.lockInChannel(ctx, tx, uid, pageID, messageID)
		if err != nil {
			return err
		}
		if m.AuthorID == nil || *m.AuthorID != uid {
			return ErrNotAuthor
		}
		if !pa.Edit {
			return ErrCannotPost
		}
		if m.Status == StatusStreaming {
			return ErrStreaming
		}
		if m.Content != content {
			now := modules.Now()
			err := tx.Model(&Message{}).Where("id = ?", m.ID).
				Updates(map[string]any{"content": content, "edited_at": now, "updated_at": now}).Error
			if err != nil {
				return err
			}
		}
		r, err := loadRow(tx, m.ID)
		if err != nil {
			return err
		}
		out = r.view()
		if m.Content != content {
			rec.Record(draft(EventMessageUpdated, pa, uid, MessageUpdated{Message: out}))
		}
		return nil
	})
	if err != nil {
		return View{}, fmt.Errorf("messages: edit: %w", err)
	}
	return out, nil
}

// Delete deletes a message: a top-level message with replies becomes a tombstone, anything
// else is removed, and a tombstone whose last reply is removed goes too. Errors:
// ErrPageNotFound, ErrNotChannel, ErrNotFound, ErrCannotDelete.
func (s *Service) Delete(ctx context.Context, pageID, messageID string) error {
	uid := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		pa, m, err := s.lockInChannel(ctx, tx, uid, pageID, messageID)
		if err != nil {
			return err
		}
		author := m.AuthorID != nil && *m.AuthorID == uid
		if !pa.Role.Manages() && !(author && pa.Edit) {
			return ErrCannotDelete
		}
		before, err := loadRow(tx, m.ID)
		if err != nil {
			return err
		}
		now := modules.Now()
		if m.ParentID == nil && before.RepliesCount > 0 {
			tomb := map[string]any{"content": "", "deleted_at": now, "updated_at": now}
			if m.Status == StatusStreaming { // a tombstone does not stream
				tomb["status"], tomb["status_reason"] = StatusStopped, "deleted"
			}
			err := tx.Model(&Message{}).Where("id = ?", m.ID).Updates(tomb).Error
			if err != nil {
				return err
			}
			after, err := loadRow(tx, m.ID)
			if err != nil {
				return err
			}
			rec.Record(draft(EventMessageDeleted, pa, uid, MessageDeleted{Message: after.view()}))
			return nil
		}
		if err := remove(tx, rec, pa, uid, before, now); err != nil {
			return err
		}
		if m.ParentID == nil {
			return nil
		}
		parent, err := lockMessage(tx, pageID, *m.ParentID, true)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || parent.DeletedAt == nil {
			return err
		}
		pr, err := loadRow(tx, parent.ID)
		if err != nil || pr.RepliesCount > 0 {
			return err
		}
		return remove(tx, rec, pa, uid, pr, now)
	})
	if err != nil {
		return fmt.Errorf("messages: delete: %w", err)
	}
	return nil
}

// remove deletes the row of r and records its message_deleted with removed set.
func remove(tx *gorm.DB, rec *eventlog.Recorder, pa permissions.PageAccess, actor string, r row, now time.Time) error {
	if err := tx.Where("id = ?", r.ID).Delete(&Message{}).Error; err != nil {
		return err
	}
	r.Content = ""
	r.UpdatedAt = now
	if r.DeletedAt == nil {
		r.DeletedAt = &now
	}
	rec.Record(draft(EventMessageDeleted, pa, actor, MessageDeleted{Message: r.view(), Removed: true}))
	return nil
}

// channel resolves the caller on a page and requires a viewable, untrashed CHANNEL.
func channel(ctx context.Context, r *permissions.Resolver, userID, pageID string) (permissions.PageAccess, error) {
	pa, err := r.PageOfType(ctx, userID, pageID, "CHANNEL")
	switch {
	case errors.Is(err, permissions.ErrPageNotFound):
		return pa, ErrPageNotFound
	case errors.Is(err, permissions.ErrWrongPageType):
		return pa, ErrNotChannel
	}
	return pa, err
}

// lockInChannel resolves the caller on the channel (as channel does) and locks one of its
// messages for the write of tx; a tombstone is ErrNotFound.
func (s *Service) lockInChannel(ctx context.Context, tx *gorm.DB, uid, pageID, messageID string) (permissions.PageAccess, Message, error) {
	pa, err := channel(ctx, s.r.In(tx), uid, pageID)
	if err != nil {
		return pa, Message{}, err
	}
	m, err := lockMessage(tx, pageID, messageID, false)
	return pa, m, err
}

// lockMessage reads a message of the page for update; a tombstone counts as not found unless
// tombstones is set.
func lockMessage(tx *gorm.DB, pageID, messageID string, tombstones bool) (Message, error) {
	q := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ? AND page_id = ?", messageID, pageID)
	if !tombstones {
		q = q.Where("deleted_at IS NULL")
	}
	var m Message
	err := q.Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return m, ErrNotFound
	}
	return m, err
}

func selectRows(db *gorm.DB) *gorm.DB {
	return db.Table("messages AS m").
		Select("m.id, m.page_id, m.author_id, m.parent_id, m.content, m.created_at, m.updated_at, m.edited_at, m.deleted_at, " +
			"m.status, m.status_reason, m.stream_seq, " +
			"u.name AS author_name, (SELECT COUNT(*) FROM messages r WHERE r.parent_id = m.id) AS replies_count").
		Joins("LEFT JOIN users u ON u.id = m.author_id")
}

// insertRow inserts m and returns it as loadRow would; a new message has no replies. The
// author's name is authorName when known (the caller's, as the request's session check read
// it): the insert then travels with the transaction's next statement (modules.CreateHeld).
// Otherwise the insert reads it back in its RETURNING.
func insertRow(tx *gorm.DB, m Message, authorName string) (row, error) {
	r := row{Message: m}
	if authorName != "" {
		r.AuthorName = &authorName
		if err := modules.CreateHeld(tx, &r.Message); err != nil {
			return row{}, err
		}
		return r, nil
	}
	name := clause.Column{Raw: true, Name: "(SELECT u.name FROM users u WHERE u.id = messages.author_id) AS author_name"}
	if err := tx.Clauses(clause.Returning{Columns: []clause.Column{name}}).Create(&r).Error; err != nil {
		return row{}, err
	}
	return r, nil
}

func loadRow(db *gorm.DB, id string) (row, error) {
	var rows []row
	if err := selectRows(db).Where("m.id = ?", id).Limit(1).Scan(&rows).Error; err != nil {
		return row{}, err
	}
	if len(rows) == 0 {
		return row{}, ErrNotFound
	}
	return rows[0], nil
}

// draft makes the event of a write on the page pa resolved, with its typed payload.
func draft(typ string, pa permissions.PageAccess, actor string, payload any) eventlog.Draft {
	return eventlog.PageDraft(typ, actor, pa.DriveID, pa.PageID, payload)
}

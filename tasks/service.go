package tasks

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Service runs the tasks of task lists. It is safe for concurrent use.
type Service struct {
	db  *gorm.DB
	log *eventlog.Log
	r   *permissions.Resolver
}

// NewService returns the service on db, writing through log and asking r for access.
func NewService(db *gorm.DB, log *eventlog.Log, r *permissions.Resolver) *Service {
	return &Service{db: db, log: log, r: r}
}

// ListInput selects a page of tasks.
type ListInput struct {
	PageID     string
	Status     string // "" for every status
	AssigneeID string // "" for every assignee
	Limit      int
	Cursor     string
}

// List returns the tasks of a task list by position. Errors: ErrPageNotFound, ErrNotTaskList,
// invalid_request (bad status filter or cursor).
func (s *Service) List(ctx context.Context, in ListInput) (modules.List[View], error) {
	if in.Status != "" && !Status(in.Status).Valid() {
		return modules.List[View]{}, invalidField("status", errStatus)
	}
	var cur *cursor
	if in.Cursor != "" {
		var c cursor
		if err := modules.DecodeCursor(in.Cursor, &c); err != nil {
			return modules.List[View]{}, err
		}
		if c.ID == "" || c.Position == nil {
			return modules.List[View]{}, modules.Invalid("invalid cursor", nil)
		}
		cur = &c
	}
	db := s.db.WithContext(ctx)
	if _, err := taskList(ctx, s.r, modules.UserID(ctx), in.PageID); err != nil {
		return modules.List[View]{}, fmt.Errorf("tasks: list: %w", err)
	}
	q := selectRows(db).Where("t.page_id = ?", in.PageID)
	if in.Status != "" {
		q = q.Where("t.status = ?", in.Status)
	}
	if in.AssigneeID != "" {
		q = q.Where("t.assignee_id = ?", in.AssigneeID)
	}
	if cur != nil {
		q = q.Where("(t.position > ? OR (t.position = ? AND t.id > ?))", *cur.Position, *cur.Position, cur.ID)
	}
	var rows []row
	if err := q.Order("t.position, t.id").Limit(in.Limit + 1).Scan(&rows).Error; err != nil {
		return modules.List[View]{}, fmt.Errorf("tasks: list: %w", err)
	}
	return modules.NewList(rows, in.Limit, row.view, func(r row) any {
		p := r.Position
		return cursor{Position: &p, ID: r.ID}
	}), nil
}

// CreateInput is the body of a new task. Absent and null optional fields take their defaults.
type CreateInput struct {
	Title       string    `json:"title"`
	Description *string   `json:"description"`
	Status      *Status   `json:"status"`
	Priority    *Priority `json:"priority"`
	AssigneeID  *string   `json:"assigneeId"`
	DueDate     *string   `json:"dueDate"`
	Position    *float64  `json:"position"`
}

// Create adds a task. Errors: ErrPageNotFound, ErrNotTaskList, ErrCannotEdit, invalid_request.
func (s *Service) Create(ctx context.Context, pageID string, in CreateInput) (View, error) {
	uid := modules.UserID(ctx)
	now := modules.Now()
	t := Task{
		ID: modules.NewID(), PageID: pageID, Title: strings.TrimSpace(in.Title), Status: StatusTodo,
		Priority: PriorityNone, CreatedBy: &uid, CreatedAt: now, UpdatedAt: now,
	}
	var v modules.Validator
	v.Text("title", t.Title, 1, MaxTitle, false)
	if in.Description != nil {
		t.Description = *in.Description
		v.Text("description", t.Description, 0, MaxDescription, true)
	}
	if in.Status != nil {
		t.Status = *in.Status
		v.Check(t.Status.Valid(), "status", errStatus)
	}
	if in.Priority != nil {
		t.Priority = *in.Priority
		v.Check(t.Priority.Valid(), "priority", errPriority)
	}
	if in.AssigneeID != nil {
		v.Check(modules.ValidID(*in.AssigneeID), "assigneeId", errAssignee)
		t.AssigneeID = in.AssigneeID
	}
	if in.DueDate != nil {
		t.DueDate = parseDue(&v, *in.DueDate)
	}
	if in.Position != nil {
		v.Check(finite(*in.Position), "position", "must be a finite number")
	}
	if err := v.Err(); err != nil {
		return View{}, err
	}
	if t.Status == StatusDone {
		t.CompletedAt = &now
	}
	var out View
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		r := s.r.In(tx)
		pa, err := editableList(ctx, r, uid, pageID)
		if err != nil {
			return err
		}
		if t.AssigneeID != nil {
			if err := checkAssignee(ctx, r, *t.AssigneeID, pageID); err != nil {
				return err
			}
		}
		if in.Position != nil {
			t.Position = *in.Position
		} else {
			var last *float64
			if err := tx.Model(&Task{}).Where("page_id = ?", pageID).Select("MAX(position)").Scan(&last).Error; err != nil {
				return err
			}
			t.Position = 1
			if last != nil {
				t.Position = math.Floor(*last) + 1
			}
		}
		if err := tx.Create(&t).Error; err != nil {
			return err
		}
		rw, err := loadRow(tx, t.ID)
		if err != nil {
			return err
		}
		out = rw.view()
		rec.Record(draft(EventTaskCreated, pa, uid, TaskCreated{Task: out}))
		return nil
	})
	if err != nil {
		return View{}, fmt.Errorf("tasks: create: %w", err)
	}
	return out, nil
}

// Delete removes a task. Errors: ErrPageNotFound, ErrNotTaskList, ErrCannotEdit, ErrNotFound.
func (s *Service) Delete(ctx context.Context, pageID, taskID string) error {
	uid := modules.UserID(ctx)
	_, err := s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		pa, err := editableList(ctx, s.r.In(tx), uid, pageID)
		if err != nil {
			return err
		}
		if _, err := lockTask(tx, pageID, taskID); err != nil {
			return err
		}
		rw, err := loadRow(tx, taskID)
		if err != nil {
			return err
		}
		if err := tx.Where("id = ?", taskID).Delete(&Task{}).Error; err != nil {
			return err
		}
		rec.Record(draft(EventTaskDeleted, pa, uid, TaskDeleted{Task: rw.view()}))
		return nil
	})
	if err != nil {
		return fmt.Errorf("tasks: delete: %w", err)
	}
	return nil
}

// taskList resolves the caller on a page and requires a viewable, untrashed TASK_LIST.
func taskList(ctx context.Context, r *permissions.Resolver, userID, pageID string) (permissions.PageAccess, error) {
	pa, err := r.PageOfType(ctx, userID, pageID, "TASK_LIST")
	switch {
	case errors.Is(err, permissions.ErrPageNotFound):
		return pa, ErrPageNotFound
	case errors.Is(err, permissions.ErrWrongPageType):
		return pa, ErrNotTaskList
	}
	return pa, err
}

// editableList is taskList for a write: the caller must also have edit access (ErrCannotEdit).
func editableList(ctx context.Context, r *permissions.Resolver, userID, pageID string) (permissions.PageAccess, error) {
	pa, err := taskList(ctx, r, userID, pageID)
	if err == nil && !pa.Edit {
		err = ErrCannotEdit
	}
	return pa, err
}

// checkAssignee requires that userID may view the page. An unknown user may view nothing.
func checkAssignee(ctx context.Context, r *permissions.Resolver, userID, pageID string) error {
	pa, err := r.Page(ctx, userID, pageID)
	if err != nil {
		return err
	}
	if !pa.View {
		return invalidField("assigneeId", errAssignee)
	}
	return nil
}

func lockTask(tx *gorm.DB, pageID, taskID string) (Task, error) {
	var t Task
	err := tx.Clauses(clause.Locking{Strength: "UPDATE"}).Where("id = ? AND page_id = ?", taskID, pageID).Take(&t).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return t, ErrNotFound
	}
	return t, err
}

func selectRows(db *gorm.DB) *gorm.DB {
	return db.Table("tasks AS t").
		Select("t.id, t.page_id, t.title, t.description, t.status, t.priority, t.assignee_id, t.due_date, " +
			"t.position, t.created_by, t.created_at, t.updated_at, t.completed_at, u.name AS assignee_name").
		Joins("LEFT JOIN users u ON u.id = t.assignee_id")
}

func loadRow(db *gorm.DB, id string) (row, error) {
	var rows []row
	if err := selectRows(db).Where("t.id = ?", id).Limit(1).Scan(&rows).Error; err != nil {
		return row{}, err
	}
	if len(rows) == 0 {
		return row{}, ErrNotFound
	}
	return rows[0], nil
}

func parseDue(v *modules.Validator, s string) *time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	v.Check(err == nil, "dueDate", errDueDate)
	if err != nil {
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	return &t
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }

func invalidField(field, problem string) error {
	return modules.Invalid(field+" "+problem, map[string]any{"fields": map[string]string{field: problem}})
}

// draft makes the event of a write on the page pa resolved, with its typed payload.
func draft(typ string, pa permissions.PageAccess, actor string, payload any) eventlog.Draft {
	return eventlog.PageDraft(typ, actor, pa.DriveID, pa.PageID, payload)
}

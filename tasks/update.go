package tasks

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
	"gorm.io/gorm"
)

// UpdateInput is the body of a task update: only the fields present change. Null unassigns
// (assigneeId), clears (dueDate) or empties (description); title, status, priority and
// position cannot be null.
type UpdateInput struct {
	Title       modules.Optional[string]   `json:"title"`
	Description modules.Optional[string]   `json:"description"`
	Status      modules.Optional[Status]   `json:"status"`
	Priority    modules.Optional[Priority] `json:"priority"`
	AssigneeID  modules.Optional[string]   `json:"assigneeId"`
	DueDate     modules.Optional[string]   `json:"dueDate"`
	Position    modules.Optional[float64]  `json:"position"`
}

// Update changes a task. An update that changes nothing answers the task as it is and records
// no event. Errors: ErrPageNotFound, ErrNotTaskList, ErrCannotEdit, ErrNotFound, invalid_request.
func (s *Service) Update(ctx context.Context, pageID, taskID string, in UpdateInput) (View, error) {
	u, err := in.validate()
	if err != nil {
		return View{}, err
	}
	var out View
	_, err = s.log.Tx(ctx, func(tx *gorm.DB, rec *eventlog.Recorder) error {
		out, err = s.update(ctx, tx, rec, pageID, taskID, u)
		return err
	})
	if err != nil {
		return View{}, fmt.Errorf("tasks: update: %w", err)
	}
	return out, nil
}

// update applies u to the task in tx, for the caller, and records its events.
func (s *Service) update(ctx context.Context, tx *gorm.DB, rec *eventlog.Recorder, pageID, taskID string, u taskUpdate) (View, error) {
	uid := modules.UserID(ctx)
	r := s.r.In(tx)
	pa, err := editableList(ctx, r, uid, pageID)
	if err != nil {
		return View{}, err
	}
	t, err := lockTask(tx, pageID, taskID)
	if err != nil {
		return View{}, err
	}
	changes, completed, err := u.changes(ctx, r, t, modules.Now())
	if err != nil {
		return View{}, err
	}
	if len(changes) > 0 {
		if err := tx.Model(&Task{}).Where("id = ?", t.ID).Updates(changes).Error; err != nil {
			return View{}, err
		}
	}
	rw, err := loadRow(tx, t.ID)
	if err != nil {
		return View{}, err
	}
	out := rw.view()
	if len(changes) > 0 {
		rec.Record(draft(EventTaskUpdated, pa, uid, TaskUpdated{Task: out}))
	}
	if completed {
		rec.Record(draft(EventTaskCompleted, pa, uid, TaskCompleted{Task: out}))
	}
	return out, nil
}

// taskUpdate is a valid UpdateInput with its title trimmed and its due date parsed.
type taskUpdate struct {
	UpdateInput
	title string
	due   *time.Time
}

// validate checks every field present and reports all problems together.
func (in UpdateInput) validate() (taskUpdate, error) {
	u := taskUpdate{UpdateInput: in, title: strings.TrimSpace(in.Title.Value)}
	var v modules.Validator
	if in.Title.Set {
		v.Check(!in.Title.Null, "title", errNotNull)
		v.Text("title", u.title, 1, MaxTitle, false)
	}
	if in.Description.Set {
		v.Text("description", in.Description.Value, 0, MaxDescription, true)
	}
	if in.Status.Set {
		v.Check(!in.Status.Null, "status", errNotNull)
		v.Check(in.Status.Value.Valid(), "status", errStatus)
	}
	if in.Priority.Set {
		v.Check(!in.Priority.Null, "priority", errNotNull)
		v.Check(in.Priority.Value.Valid(), "priority", errPriority)
	}
	if in.AssigneeID.Set && !in.AssigneeID.Null {
		v.Check(modules.ValidID(in.AssigneeID.Value), "assigneeId", errAssignee)
	}
	if in.DueDate.Set && !in.DueDate.Null {
		u.due = parseDue(&v, in.DueDate.Value)
	}
	if in.Position.Set {
		v.Check(!in.Position.Null, "position", errNotNull)
		v.Check(finite(in.Position.Value), "position", "must be a finite number")
	}
	return u, v.Err()
}

// changes returns the columns of t that u changes (none when it changes nothing), stamped now,
// and whether the task becomes done. A new assignee must be able to see the page.
func (u taskUpdate) changes(ctx context.Context, r *permissions.Resolver, t Task, now time.Time) (map[string]any, bool, error) {
	changes := map[string]any{}
	if u.Title.Set && u.title != t.Title {
		changes["title"] = u.title
	}
	if u.Description.Set && u.Description.Value != t.Description {
		changes["description"] = u.Description.Value
	}
	if u.Priority.Set && u.Priority.Value != t.Priority {
		changes["priority"] = u.Priority.Value
	}
	if u.Position.Set && u.Position.Value != t.Position {
		changes["position"] = u.Position.Value
	}
	if u.DueDate.Set && !sameTime(u.due, t.DueDate) {
		changes["due_date"] = u.due
	}
	if err := u.assignee(ctx, r, t, changes); err != nil {
		return nil, false, err
	}
	completed := u.status(t, now, changes)
	if len(changes) > 0 {
		changes["updated_at"] = now
	}
	return changes, completed, nil
}

// assignee adds the assignee to changes when u changes it, checking that a new one may see the
// task's page.
func (u taskUpdate) assignee(ctx context.Context, r *permissions.Resolver, t Task, changes map[string]any) error {
	if !u.AssigneeID.Set {
		return nil
	}
	next := u.AssigneeID.Ptr()
	switch {
	case next != nil && (t.AssigneeID == nil || *next != *t.AssigneeID):
		if err := checkAssignee(ctx, r, *next, t.PageID); err != nil {
			return err
		}
		changes["assignee_id"] = *next
	case next == nil && t.AssigneeID != nil:
		changes["assignee_id"] = nil
	}
	return nil
}

// status adds the status to changes when u changes it, with the completion time it implies, and
// reports whether the task becomes done.
func (u taskUpdate) status(t Task, now time.Time, changes map[string]any) bool {
	if !u.Status.Set || u.Status.Value == t.Status {
		return false
	}
	changes["status"] = u.Status.Value
	switch {
	case u.Status.Value == StatusDone:
		changes["completed_at"] = now
		return true
	case t.Status == StatusDone:
		changes["completed_at"] = nil
	}
	return false
}

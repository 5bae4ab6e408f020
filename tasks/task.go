package tasks

import (
	"time"

	"github.com/pagespace/pagespace/modules"
)

// Limits of a task.
const (
	MaxTitle       = 500   // characters
	MaxDescription = 10000 // characters
)

// Event names, one per kind of write.
const (
	EventTaskCreated   = "task_created"
	EventTaskUpdated   = "task_updated"
	EventTaskCompleted = "task_completed"
	EventTaskDeleted   = "task_deleted"
)

// Status is where a task stands.
type Status string

// The statuses.
const (
	StatusTodo       Status = "todo"
	StatusInProgress Status = "in_progress"
	StatusDone       Status = "done"
)

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	return s == StatusTodo || s == StatusInProgress || s == StatusDone
}

// Priority is how urgent a task is.
type Priority string

// The priorities, lowest first.
const (
	PriorityNone   Priority = "none"
	PriorityLow    Priority = "low"
	PriorityMedium Priority = "medium"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Valid reports whether p is one of the priorities.
func (p Priority) Valid() bool {
	switch p {
	case PriorityNone, PriorityLow, PriorityMedium, PriorityHigh, PriorityUrgent:
		return true
	}
	return false
}

const (
	errStatus   = "must be one of todo, in_progress, done"
	errPriority = "must be one of none, low, medium, high, urgent"
	errDueDate  = "must be an RFC 3339 time, e.g. 2025-01-31T17:00:00Z"
	errAssignee = "must be a user who can view this page"
	errNotNull  = "must not be null"
)

// Sentinel errors of the package.
var (
	ErrPageNotFound = modules.E(modules.KindNotFound, "page not found")
	ErrNotTaskList  = modules.E(modules.KindNotFound, "page is not a task list")
	ErrNotFound     = modules.E(modules.KindNotFound, "task not found")
	ErrCannotEdit   = modules.E(modules.KindForbidden, "you do not have permission to change tasks on this page")
)

// Task is a row of the tasks table.
type Task struct {
	ID          string `gorm:"primaryKey"`
	PageID      string
	Title       string
	Description string
	Status      Status
	Priority    Priority
	AssigneeID  *string
	DueDate     *time.Time
	Position    float64
	CreatedBy   *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	CompletedAt *time.Time
}

// TableName is tasks.
func (Task) TableName() string { return "tasks" }

// User is a user as a task shows it.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// View is a task as the API and events show it.
type View struct {
	ID          string   `json:"id"`
	PageID      string   `json:"pageId"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Status      Status   `json:"status"`
	Priority    Priority `json:"priority"`
	AssigneeID  *string  `json:"assigneeId"`
	// Assignee is the assigned user with their name, null when unassigned.
	Assignee    *User         `json:"assignee"`
	DueDate     *modules.Time `json:"dueDate"`
	Position    float64       `json:"position"`
	CreatedBy   *string       `json:"createdBy"`
	CreatedAt   modules.Time  `json:"createdAt"`
	UpdatedAt   modules.Time  `json:"updatedAt"`
	CompletedAt *modules.Time `json:"completedAt"`
}

// row is a task with its assignee's name.
type row struct {
	Task
	AssigneeName *string
}

func (r row) view() View {
	v := View{
		ID: r.ID, PageID: r.PageID, Title: r.Title, Description: r.Description, Status: r.Status,
		Priority: r.Priority, AssigneeID: r.AssigneeID, DueDate: modules.TimePtr(r.DueDate),
		Position: r.Position, CreatedBy: r.CreatedBy, CreatedAt: modules.Time(r.CreatedAt),
		UpdatedAt: modules.Time(r.UpdatedAt), CompletedAt: modules.TimePtr(r.CompletedAt),
	}
	if r.AssigneeID != nil && r.AssigneeName != nil {
		v.Assignee = &User{ID: *r.AssigneeID, Name: *r.AssigneeName}
	}
	return v
}

// cursor is the position after the last task of a page of results.
type cursor struct {
	Position *float64 `json:"p"`
	ID       string   `json:"i"`
}

// TaskCreated is the entity part of a task_created payload. The event log adds eventId, type,
// at, pageId, driveId and actorId.
type TaskCreated struct {
	Task View `json:"task"`
}

// TaskUpdated is the entity part of a task_updated payload.
type TaskUpdated struct {
	Task View `json:"task"`
}

// TaskCompleted is the entity part of a task_completed payload, recorded after the
// task_updated of the same change when a task's status becomes done.
type TaskCompleted struct {
	Task View `json:"task"`
}

// TaskDeleted is the entity part of a task_deleted payload: the task as it was.
type TaskDeleted struct {
	Task View `json:"task"`
}

package messages

import (
	"time"

	"github.com/pagespace/pagespace/modules"
)

// Limits of a message.
const (
	MaxContent = 10000 // characters, after trimming surrounding whitespace
)

// Event names, one per kind of write.
const (
	EventNewMessage     = "new_message"
	EventMessageUpdated = "message_updated"
	EventMessageDeleted = "message_deleted"
	// EventStreamStopped tells the author of a streamed message, in its user room, that someone
	// stopped it.
	EventStreamStopped = "stream_stopped"
)

// Statuses of a message. Every message posted whole is complete; a streamed one is streaming
// until it ends in one of the others.
const (
	StatusComplete    = "complete"
	StatusStreaming   = "streaming"
	StatusError       = "error"
	StatusStopped     = "stopped"
	StatusInterrupted = "interrupted"
)

// Sentinel errors of the package.
var (
	ErrPageNotFound = modules.E(modules.KindNotFound, "page not found")
	ErrNotChannel   = modules.E(modules.KindNotFound, "page is not a channel")
	ErrNotFound     = modules.E(modules.KindNotFound, "message not found")
	ErrCannotPost   = modules.E(modules.KindForbidden, "you do not have permission to post in this channel")
	ErrNotAuthor    = modules.E(modules.KindForbidden, "only the author can edit a message")
	ErrCannotDelete = modules.E(modules.KindForbidden, "only the author or a drive owner or admin can delete a message")
	ErrStreaming    = modules.E(modules.KindConflict, "the message is still streaming; it can be edited once it has ended")
)

const errParentNotTopLvl = "must be a top-level message of this channel that is not deleted"

// Message is a row of the messages table. A top-level message has no ParentID; a reply's
// ParentID is a top-level message of the same page.
type Message struct {
	ID        string `gorm:"primaryKey"`
	PageID    string
	AuthorID  *string // nil once the author's account is gone
	ParentID  *string
	Content   string
	CreatedAt time.Time
	UpdatedAt time.Time
	EditedAt  *time.Time
	DeletedAt *time.Time // set on a tombstone: a deleted top-level message kept for its replies
	// Status is StatusComplete, or for a streamed message its state (see stream.go).
	Status       string
	StatusReason string
	StreamSeq    int64   // the last chunk in Content
	StreamKeyID  *string // the agent key that started the stream
}

// TableName is messages.
func (Message) TableName() string { return "messages" }

// Author is who wrote a message, as the API shows it.
type Author struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// View is a message as the API and events show it.
type View struct {
	ID       string  `json:"id"`
	PageID   string  `json:"pageId"`
	ParentID *string `json:"parentId"`
	// Author is null when the author's account no longer exists.
	Author  *Author `json:"author"`
	Content string  `json:"content"`
	// RepliesCount is the number of replies of a top-level message (0 for a reply).
	RepliesCount int64         `json:"repliesCount"`
	CreatedAt    modules.Time  `json:"createdAt"`
	UpdatedAt    modules.Time  `json:"updatedAt"`
	EditedAt     *modules.Time `json:"editedAt"`
	DeletedAt    *modules.Time `json:"deletedAt"`
	// Status is "complete" for every message posted whole; a streamed message is "streaming"
	// until it ends as complete, error, stopped or interrupted.
	Status string `json:"status"`
	// StreamSeq is the sequence number of the last chunk Content holds (0 for none, and for a
	// message posted whole).
	StreamSeq int64 `json:"streamSeq"`
	// StatusReason says why a stream ended other than by completing; absent when empty.
	StatusReason string `json:"statusReason,omitempty"`
}

// row is a message with what its view needs from other tables, which are never written
// through it.
type row struct {
	Message
	AuthorName   *string `gorm:"->"`
	RepliesCount int64   `gorm:"->"`
}

func (r row) view() View {
	v := View{
		ID: r.ID, PageID: r.PageID, ParentID: r.ParentID, Content: r.Content, RepliesCount: r.RepliesCount,
		CreatedAt: modules.Time(r.CreatedAt), UpdatedAt: modules.Time(r.UpdatedAt),
		EditedAt: modules.TimePtr(r.EditedAt), DeletedAt: modules.TimePtr(r.DeletedAt),
		Status: r.Status, StreamSeq: r.StreamSeq, StatusReason: r.StatusReason,
	}
	if r.AuthorID != nil && r.AuthorName != nil {
		v.Author = &Author{ID: *r.AuthorID, Name: *r.AuthorName}
	}
	return v
}

// cursor is the position after the last message of a page of results.
type cursor struct {
	At int64  `json:"t"` // created_at, Unix milliseconds
	ID string `json:"i"`
}

// NewMessage is the entity part of a new_message payload. The event log adds eventId, type,
// at, pageId, driveId and actorId.
type NewMessage struct {
	Message View `json:"message"`
}

// MessageUpdated is the entity part of a message_updated payload.
type MessageUpdated struct {
	Message View `json:"message"`
}

// StreamStopped is the payload of stream_stopped, told to a stream's author alone (its user
// room): the draft names no drive or page, so pageId is the payload's own.
type StreamStopped struct {
	PageID    string `json:"pageId"`
	MessageID string `json:"messageId"`
	By        string `json:"by"`
}

// MessageDeleted is the entity part of a message_deleted payload.
type MessageDeleted struct {
	// Message is the message as deleted: content cleared, deletedAt set.
	Message View `json:"message"`
	// Removed says that the message is gone from listings; false means it stays as a tombstone
	// because it has replies.
	Removed bool `json:"removed"`
}

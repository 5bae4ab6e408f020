package pages

import (
	"encoding/json"

	"github.com/pagespace/pagespace/modules/eventlog"
)

// Event names. Each payload also carries eventId, type, at, pageId, driveId and actorId, which
// the event log adds.
const (
	EventPageCreated  = "page_created"
	EventPageUpdated  = "page_updated"
	EventPageMoved    = "page_moved"
	EventPageDeleted  = "page_deleted"
	EventPageRestored = "page_restored"
)

// PageCreated is the payload of page_created.
type PageCreated struct {
	Page Node `json:"page"`
}

// PageUpdated is the payload of page_updated. Fields names what changed ("title", "content",
// "isPrivate"). Content is the new content when it changed and is at most MaxEventContent bytes;
// a larger change sets ContentOmitted instead, and clients refetch the page.
type PageUpdated struct {
	Page           Node     `json:"page"`
	Fields         []string `json:"fields"`
	Revision       int64    `json:"revision"`
	Content        *string  `json:"content,omitempty"`
	ContentOmitted bool     `json:"contentOmitted,omitempty"`
}

// PageMoved is the payload of page_moved: the page at its new place, and where it was.
type PageMoved struct {
	Page             Node    `json:"page"`
	PreviousParentID *string `json:"previousParentId"`
	PreviousPosition float64 `json:"previousPosition"`
}

// PageDeleted is the payload of page_deleted: the root that was trashed (or, with Permanent,
// deleted for good) and every page that went with it, the root included.
type PageDeleted struct {
	Page      Node     `json:"page"`
	PageIDs   []string `json:"pageIds"`
	Permanent bool     `json:"permanent"`
}

// PageRestored is the payload of page_restored: the restored root at its place (the drive root
// when its parent was still trashed) and every page that came back with it.
type PageRestored struct {
	Page    Node     `json:"page"`
	PageIDs []string `json:"pageIds"`
}

// draft makes the event of a page write, its payload spread into the event's fields.
func draft(typ, actorID, driveID, pageID string, payload any) eventlog.Draft {
	return eventlog.PageDraft(typ, actorID, driveID, pageID, fields(payload))
}

// fields spreads a payload struct into the top-level fields of an event.
func fields(payload any) map[string]any {
	b, err := json.Marshal(payload)
	if err != nil {
		panic("pages: event payload: " + err.Error()) // our own structs always encode
	}
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(b, &raw)
	out := make(map[string]any, len(raw))
	for k, v := range raw {
		out[k] = v
	}
	return out
}

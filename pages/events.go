package pages

import (
	"slices"

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

// pageEvent is the payload of a page event, which says what the event changes about who may
// see what (nil: nothing).
type pageEvent interface {
	access() *eventlog.Access
}

// A new page is in everyone's view of the drive who may see it.
func (PageCreated) access() *eventlog.Access { return eventlog.DriveChanged("page_created") }

// Making a page private or public changes who may see it and its subtree.
func (p PageUpdated) access() *eventlog.Access {
	if slices.Contains(p.Fields, "isPrivate") {
		return eventlog.DriveChanged("page_private")
	}
	return nil
}

// A page inherits access from its new parent.
func (PageMoved) access() *eventlog.Access { return eventlog.DriveChanged("page_moved") }

// Pages in the trash cannot be opened; pages deleted for good cannot be seen.
func (p PageDeleted) access() *eventlog.Access {
	a := eventlog.DriveChanged("page_deleted")
	a.Removed, a.ForGood = p.PageIDs, p.Permanent
	return a
}

// Restored pages can be opened again.
func (PageRestored) access() *eventlog.Access { return eventlog.DriveChanged("page_restored") }

// draft makes the event of a page write, with what it changes about access.
func draft(typ, actorID, driveID, pageID string, payload pageEvent) eventlog.Draft {
	d := eventlog.PageDraft(typ, actorID, driveID, pageID, payload)
	d.Access = payload.access()
	return d
}

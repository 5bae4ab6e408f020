package realtime_test

import (
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules/eventlog"
	"gorm.io/gorm"
)

// This process's commits reach its dispatcher through the log's publisher, so the bus does not
// have it read them back (Broker.NotifyOwn). Yet an event this process committed and never
// published (as when a commit's success does not reach the writer) is still delivered: once
// the bus has heard its notification, a late check reads it from the log.
func TestOwnUnpublishedCommitIsDelivered(t *testing.T) {
	if apptest.Dialect() != "postgres" {
		t.Skip("the bus is PostgreSQL's")
	}
	r := start(t)
	u := r.Signup("Ann")
	drive := r.CreateDrive(u, "d")
	page := r.CreatePage(u, drive, "DOCUMENT", "p", "")
	s := r.dial(u)
	s.join(page)
	// A real page_updated, to copy: the one recorded below differs only in the title.
	r.Do("PATCH", "/api/pages/"+page, u.Token, map[string]any{"title": "first"}).Expect(200)
	body := payload(s.await("page_updated"))
	for _, k := range []string{"eventId", "type", "at", "actorId", "driveId", "pageId"} {
		delete(body, k) // the log writes these itself
	}
	body["page"].(map[string]any)["title"] = "late"
	unpublished := eventlog.New(r.App.DB(), nil) // commits, announces, publishes nothing
	unpublished.SetOrigin(r.App.Events().Origin())
	_, err := unpublished.Tx(ctxT(t), func(tx *gorm.DB, rec *eventlog.Recorder) error {
		rec.Record(eventlog.PageDraft("page_updated", u.ID, drive, page, body))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	ev := s.await("page_updated")
	if got := payload(ev)["page"].(map[string]any)["title"]; got != "late" {
		t.Fatalf("page_updated carries title %v, want late", got)
	}
}

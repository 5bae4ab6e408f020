package messages_test

import (
	"context"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/messages"
	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/permissions"
)

// A message post is on the path of every chat line, and each round trip to the database adds
// to the time before its event goes out. This counts them, begin and commit included, so that
// one added by accident fails here. The request's session check (auth middleware) is one more,
// before the service is called.
func TestPostRoundTrips(t *testing.T) {
	env := apptest.Start(t)
	w := env.NewWorld()
	ch := w.Page("CHANNEL", "general")
	top := post(t, env, w.Member, ch, "top")

	db, stmts := apptest.CountStatements(t, env.App.DB())
	svc := messages.NewService(db, eventlog.New(db, nil), permissions.NewResolver(db), messages.StreamConfig{}, nil)
	ctx := modules.WithIdentity(context.Background(), modules.Identity{UserID: w.Member.ID})

	// begin (on PostgreSQL in one message with the drive's access lock), the access chain, the
	// message inserted and read back with its author's name, the event (with the log's lock and
	// NOTIFY on PostgreSQL, and COMMIT in the same message), commit (SQLite).
	want := map[string]int{"postgres": 4, "sqlite": 5}[apptest.Dialect()]
	// A reply also takes a share lock on its parent.
	for _, parent := range []*string{nil, &top.ID} {
		stmts.Reset()
		v, err := svc.Post(ctx, ch, messages.PostInput{Content: "hello", ParentID: parent})
		if err != nil {
			t.Fatal(err)
		}
		if v.Author == nil || v.Author.ID != w.Member.ID || v.Author.Name != w.Member.Name || v.Content != "hello" ||
			v.RepliesCount != 0 || v.Status != messages.StatusComplete || (parent != nil) != (v.ParentID != nil) {
			t.Fatalf("posted %+v (author %+v)", v, v.Author)
		}
		n := want
		if parent != nil {
			n++
		}
		if got := len(stmts.List()); got != n {
			t.Errorf("reply %v: a post took %d round trips, want %d:\n%s", parent != nil, got, n, stmts)
		}
	}
	// What the service answered is what the API reads back, and the event carries it too.
	l := list(t, env, w.Member, ch, "")
	if len(l.Items) != 2 || l.Items[0].Content != "hello" || l.Items[0].Author == nil || l.Items[0].Author.Name != w.Member.Name {
		t.Fatalf("listed %+v", l.Items)
	}
	evs := env.EventsAfter(w.Member, "0", messages.EventNewMessage)
	if len(evs) != 3 {
		t.Fatalf("%d new_message events, want 3", len(evs))
	}
}

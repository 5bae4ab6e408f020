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
	// begin, the drive's access lock and the access chain (on PostgreSQL in one message), the
	// message inserted, the event (with the log's lock and NOTIFY on PostgreSQL, and COMMIT in
	// the same message), commit (SQLite). When the request's session check read the caller's
	// name (the REST middleware does), the insert travels with the event on PostgreSQL;
	// otherwise it reads the name back, in its own round trip.
	for _, named := range []bool{true, false} {
		id := modules.Identity{UserID: w.Member.ID}
		want := map[string]int{"postgres": 3, "sqlite": 5}[apptest.Dialect()]
		if named {
			id.Name = w.Member.Name
			if apptest.Dialect() == "postgres" {
				want = 2
			}
		}
		ctx := modules.WithIdentity(context.Background(), id)
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
				t.Errorf("named %v, reply %v: a post took %d round trips, want %d:\n%s", named, parent != nil, got, n, stmts)
			}
		}
	}
	// What the service answered is what the API reads back, and the event carries it too.
	l := list(t, env, w.Member, ch, "")
	if len(l.Items) != 3 || l.Items[0].Content != "hello" || l.Items[0].Author == nil || l.Items[0].Author.Name != w.Member.Name {
		t.Fatalf("listed %+v", l.Items)
	}
	evs := env.EventsAfter(w.Member, "0", messages.EventNewMessage)
	if len(evs) != 5 {
		t.Fatalf("%d new_message events, want 5", len(evs))
	}
}

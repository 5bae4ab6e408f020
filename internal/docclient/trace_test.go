package docclient_test

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/docclient"
	"github.com/pagespace/pagespace/internal/traces"
)

// logCost logs what the replay left in the database: rows of the event log and of doc_ops,
// revisions, and the database's size per op.
func logCost(t *testing.T, env *apptest.Env, ops int) {
	db := env.App.DB()
	var events, opRows, revisions int64
	db.Table("events").Where("type = ?", "doc_op").Count(&events)
	db.Table("doc_ops").Count(&opRows)
	db.Table("page_revisions").Count(&revisions)
	var size int64
	if apptest.Dialect() == "postgres" {
		db.Raw("SELECT pg_database_size(current_database())").Scan(&size)
	} else {
		var pages, pageSize int64
		db.Raw("PRAGMA page_count").Scan(&pages)
		db.Raw("PRAGMA page_size").Scan(&pageSize)
		size = pages * pageSize
	}
	t.Logf("database: %d doc_op events, %d doc_ops rows, %d revisions, %d bytes (%d per op, schema and other tables included)",
		events, opRows, revisions, size, size/int64(ops))
}

// tracePrefix is how many transactions of each trace the default test replays; the whole traces
// (26,078 and 23,136 transactions, one server round trip each) run with PAGESPACE_TRACE_FULL=1.
const tracePrefix = 1000

// TestTraceReplay replays the concurrent editing traces friendsforever (2 writers) and
// clownschool (3 writers) through the real server, one user and one socket client per writer.
//
// The mapping is traces.Step's, for clients that keep one op in flight: transactions are
// submitted in file order, each acknowledged before the next. Before writer A types transaction
// i, its client applies the server's ops up to Step.Base (the later of the version A had seen in
// the trace and the version of its own previous transaction) and no further (Client.Hold), so
// nothing is in flight and its text is the server's at Base. It edits with Step.AtBase (the
// transaction on that text) and sends it against Base; the server transforms it past the ops
// after Base, which are other writers' ops A had not seen, and it becomes version i+1. The
// client then applies up to its ack, transforming its op in flight past the ops before it.
//
// The server's text and every client's must end as the trace's endContent (the whole trace), or
// as the offline replay's server text after the prefix.
func TestTraceReplay(t *testing.T) {
	full := os.Getenv("PAGESPACE_TRACE_FULL") != ""
	for _, name := range []string{"friendsforever", "clownschool"} {
		t.Run(name, func(t *testing.T) {
			tr, err := traces.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			r, err := traces.NewReplay(tr)
			if err != nil {
				t.Fatal(err)
			}
			n := len(tr.Txns)
			if !full {
				n = min(n, tracePrefix)
			}
			env := apptest.Start(t, fast, func(c *app.Config) { c.Doc.KeepOps = math.MaxInt32 })
			owner := env.Signup("Trace Owner")
			drive := env.CreateDrive(owner, "Traces")
			page := env.Do("POST", "/api/drives/"+drive+"/pages", owner.Token,
				map[string]any{"title": name, "type": "DOCUMENT", "content": tr.StartContent}).Expect(201).ID()
			clients := make([]*docclient.Client, tr.NumAgents)
			for a := range clients {
				u := env.Signup(fmt.Sprintf("Writer %d", a))
				env.AddMember(owner, drive, u, "MEMBER")
				clients[a] = open(t, env, u, page, "writer-"+strconv.Itoa(a))
				clients[a].Hold(0)
			}
			want := tr.StartContent
			ctx := ctxT(t, 30*time.Minute)
			began := time.Now()
			for i := 0; i < n; i++ {
				st, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				c := clients[st.Agent]
				c.Hold(int64(st.Base))
				if err := c.WaitVersion(ctx, int64(st.Base)); err != nil {
					t.Fatalf("txn %d: %v", i, err)
				}
				if c.Version() != int64(st.Base) || c.State() != docclient.Synchronized {
					t.Fatalf("txn %d: writer %d at version %d (state %d), base %d", i, st.Agent, c.Version(), c.State(), st.Base)
				}
				if err := c.Edit(st.AtBase); err != nil {
					t.Fatalf("txn %d: %v", i, err)
				}
				c.Hold(int64(st.Index + 1))
				if err := c.WaitSynced(ctx); err != nil {
					t.Fatalf("txn %d: %v", i, err)
				}
				if c.Version() != int64(st.Index+1) {
					t.Fatalf("txn %d became version %d", i, c.Version())
				}
				if want, err = st.Op.Apply(want); err != nil {
					t.Fatalf("txn %d: offline replay: %v", i, err)
				}
			}
			elapsed := time.Since(began)
			if full && want != tr.EndContent {
				t.Fatalf("the offline replay does not end at endContent")
			}
			for _, c := range clients {
				c.Hold(math.MaxInt64)
			}
			got := converge(t, env, owner, page, clients...)
			if got != want {
				t.Fatalf("server text after %d txns: %d code points, want %d", n, utf8.RuneCountInString(got), utf8.RuneCountInString(want))
			}
			t.Logf("%d of %d txns through the server (%s) in %v: %.0f ops/s", n, len(tr.Txns), apptest.Dialect(), elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds())
			logCost(t, env, n)
		})
	}
}

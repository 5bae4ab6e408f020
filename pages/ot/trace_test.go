package ot_test

import (
	"testing"

	"github.com/pagespace/pagespace/internal/traces"
	"github.com/pagespace/pagespace/pages/ot"
)

// TestTraceSequential applies every transaction of automerge-paper (259,778 edits by one writer)
// as an operation and ends at its endContent. Operations are composed in batches and the batch
// applied, which checks Compose on long chains as well as Apply; every op is also checked to fit
// by its lengths.
func TestTraceSequential(t *testing.T) {
	tr, err := traces.Load("automerge-paper")
	if err != nil {
		t.Fatal(err)
	}
	doc := tr.StartContent
	var batch ot.Op
	batch = batch.Retain(runes(doc))
	flush := func() {
		doc = mustApply(t, batch, doc)
		batch = ot.Op{}.Retain(runes(doc))
	}
	for i, tx := range tr.Txns {
		op, err := tx.Op(batch.TargetLen())
		if err != nil {
			t.Fatalf("txn %d: %v", i, err)
		}
		if batch, err = ot.Compose(batch, op); err != nil {
			t.Fatalf("txn %d: %v", i, err)
		}
		if i%64 == 63 {
			flush()
		}
	}
	flush()
	if doc != tr.EndContent {
		t.Fatalf("end differs: %d code points, want %d", runes(doc), runes(tr.EndContent))
	}
}

// TestTraceConcurrent replays friendsforever (2 writers) and clownschool (3 writers) through a
// simulated central server with one client per writer, and checks that the server and every
// client end at endContent exactly.
//
// The mapping (traces.Replay): every transaction reaches the server at once, in file order, so
// transaction i becomes server version i+1, and nothing waits in flight. When writer A types
// transaction i, its client holds the trace's view: the server's document at the version the
// trace says A had seen, plus all of A's own transactions. The client first receives the server
// ops up to that version (Step.Deliver, already transformed past A's own later ops), applies the
// transaction's patches to its view (Step.Local), and the transaction is transformed past the
// server ops A had not seen to become the server's op (Step.Op), which applies to the server's
// document. At the end each client receives what it has not seen (Replay.Finish).
func TestTraceConcurrent(t *testing.T) {
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
			server := ""
			views := make([]string, tr.NumAgents)
			transformed := 0
			for !r.Done() {
				st, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				for _, op := range st.Deliver {
					views[st.Agent] = mustApply(t, op, views[st.Agent])
				}
				views[st.Agent] = mustApply(t, st.Local, views[st.Agent])
				server = mustApply(t, st.Op, server)
				if !st.Op.Equal(st.Local) {
					transformed++
				}
			}
			for a, ops := range r.Finish() {
				for _, op := range ops {
					views[a] = mustApply(t, op, views[a])
				}
			}
			if server != tr.EndContent {
				t.Errorf("server: %d code points, want %d", runes(server), runes(tr.EndContent))
			}
			for a, v := range views {
				if v != tr.EndContent {
					t.Errorf("writer %d: %d code points, want %d", a, runes(v), runes(tr.EndContent))
				}
			}
			t.Logf("%d txns, %d writers, %d transformed on the way to the server", len(tr.Txns), tr.NumAgents, transformed)
		})
	}
}

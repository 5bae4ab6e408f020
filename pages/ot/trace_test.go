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

// server is a central server in memory: a document, its history, and who wrote each op.
type server struct {
	doc     string
	history []ot.Op
	authors []int
}

// receive transforms op, made on version base, past every op since, one by one, and applies it.
func (s *server) receive(tb testing.TB, author, base int, op ot.Op) ot.Op {
	tb.Helper()
	for _, applied := range s.history[base:] {
		var err error
		if op, _, err = ot.Transform(op, applied); err != nil {
			tb.Fatal(err)
		}
	}
	s.doc = mustApply(tb, op, s.doc)
	s.history = append(s.history, op)
	s.authors = append(s.authors, author)
	return op
}

// client is ot.js's client: synchronised, awaiting an ack (one op in flight), or awaiting with
// a buffer of local edits composed together.
type client struct {
	id       int
	version  int // server ops received, own acks included
	doc      string
	inflight *ot.Op
	buffer   *ot.Op
	sent     []func() // ops sent to the server, as calls to make when the server reads them
}

func (c *client) edit(tb testing.TB, op ot.Op, send func(base int, op ot.Op)) {
	tb.Helper()
	c.doc = mustApply(tb, op, c.doc)
	switch {
	case c.inflight == nil:
		c.inflight = &op
		send(c.version, op)
	case c.buffer == nil:
		c.buffer = &op
	default:
		b, err := ot.Compose(*c.buffer, op)
		if err != nil {
			tb.Fatal(err)
		}
		c.buffer = &b
	}
}

// receive takes server op number c.version: an ack of its own op, or a remote op to transform
// past what it has not had acknowledged.
func (c *client) receive(tb testing.TB, s *server, send func(base int, op ot.Op)) {
	tb.Helper()
	op, own := s.history[c.version], s.authors[c.version] == c.id
	c.version++
	if own {
		c.inflight, c.buffer = c.buffer, nil
		if c.inflight != nil {
			send(c.version, *c.inflight)
		}
		return
	}
	var err error
	if c.inflight != nil {
		var p ot.Op
		if p, op, err = ot.Transform(*c.inflight, op); err != nil {
			tb.Fatal(err)
		}
		c.inflight = &p
	}
	if c.buffer != nil {
		var b ot.Op
		if b, op, err = ot.Transform(*c.buffer, op); err != nil {
			tb.Fatal(err)
		}
		c.buffer = &b
	}
	c.doc = mustApply(tb, op, c.doc)
}

// TestTraceConcurrentClients replays both concurrent traces through the in-memory server with one
// ot.js-style client per writer (one op in flight), the way a replay through the real server can.
//
// The mapping: transactions are submitted in file order, each acknowledged before the next.
// Before writer A types transaction i, its client receives the server's ops up to Step.Base, the
// later of the version A had seen in the trace and the version its own previous transaction
// became; so its previous op is acknowledged and nothing is in flight. Its document is then the
// server's at Base: the trace's view of A plus other writers' ops A had not seen yet when it typed
// after its own last op. The client edits with Step.AtBase, the transaction on that document (the
// trace's edit rebased past those ops), and sends it against Base; the server transforms it past
// the ops after Base, which are other writers' ops A had not seen. What the server applies must
// be Step.Op, and the server and every client must end at endContent.
func TestTraceConcurrentClients(t *testing.T) {
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
			s := &server{}
			clients := make([]*client, tr.NumAgents)
			for a := range clients {
				clients[a] = &client{id: a}
			}
			rebased, transformed := 0, 0
			for !r.Done() {
				st, err := r.Next()
				if err != nil {
					t.Fatal(err)
				}
				c := clients[st.Agent]
				var applied ot.Op
				send := func(base int, op ot.Op) { applied = s.receive(t, c.id, base, op) }
				for c.version < st.Base {
					c.receive(t, s, send)
				}
				if c.inflight != nil || c.version != st.Base {
					t.Fatalf("txn %d: client %d at version %d, in flight %v; base %d", st.Index, c.id, c.version, c.inflight, st.Base)
				}
				c.edit(t, st.AtBase, send)
				if !applied.Equal(st.Op) {
					t.Fatalf("txn %d: server applied %v, replay says %v", st.Index, applied, st.Op)
				}
				if !st.AtBase.Equal(st.Local) {
					rebased++
				}
				if !st.Op.Equal(st.AtBase) {
					transformed++
				}
			}
			for _, c := range clients {
				for c.version < len(s.history) {
					c.receive(t, s, func(int, ot.Op) { t.Fatal("sent after the end") })
				}
				if c.doc != tr.EndContent {
					t.Errorf("client %d: %d code points, want %d", c.id, runes(c.doc), runes(tr.EndContent))
				}
			}
			if s.doc != tr.EndContent {
				t.Errorf("server: %d code points, want %d", runes(s.doc), runes(tr.EndContent))
			}
			t.Logf("%d txns: %d changed by the server's transform, %d rebased by the replay past ops the writer had not seen",
				len(tr.Txns), transformed, rebased)
		})
	}
}

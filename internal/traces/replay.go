package traces

import (
	"errors"
	"fmt"

	"github.com/pagespace/pagespace/pages/ot"
)

// Replay maps a concurrent trace onto one server that receives the transactions in file order
// (see the package documentation). It is not safe for concurrent use.
type Replay struct {
	trace   *Trace
	seen    []int // per txn: other writers' txns before this index are in its view
	next    int
	writers []writer
}

type writer struct {
	viewLen int
	last    int       // index of the writer's latest txn, -1 before its first
	unseen  []pending // server ops the writer has not received, each on its view after the ones before
}

type pending struct {
	version int // the server version the op became
	op      ot.Op
}

// Step is one transaction of the replay.
type Step struct {
	// Index is the transaction's index in the trace and the server version its op applies to;
	// it becomes version Index+1.
	Index int
	Agent int
	// Seen is the server version the writer had received when typing: its view is the server's
	// document at version Seen plus its own later transactions.
	Seen int
	// Deliver are the server ops (by other writers) the writer receives before typing, each on
	// its view after the ones before it; applied in order they bring the view to Seen.
	Deliver []ot.Op
	// Local is the transaction on the writer's view (after Deliver).
	Local ot.Op
	// Base is the earliest server version the transaction can be sent against: the later of Seen
	// and the version the writer's own previous transaction became. AtBase is the transaction on
	// the server's document at version Base. A server that transforms AtBase past its ops after
	// Base (the ops of other writers only) gets Op; a client that has received every server op up
	// to Base (its own acknowledgements included, so nothing is in flight) can send it as is.
	Base   int
	AtBase ot.Op
	// Op is the transaction on the server's document at version Index.
	Op ot.Op
}

// NewReplay prepares the replay of a concurrent trace. It fails when the trace lacks the shape
// the mapping relies on: each writer's transactions form a chain, and the other writers'
// transactions a transaction has seen are those before some index.
func NewReplay(t *Trace) (*Replay, error) {
	if !t.Concurrent {
		return nil, errors.New("traces: replay needs a concurrent trace")
	}
	seen, err := seenPoints(t)
	if err != nil {
		return nil, err
	}
	r := &Replay{trace: t, seen: seen, writers: make([]writer, t.NumAgents)}
	for a := range r.writers {
		r.writers[a].last = -1
	}
	return r, nil
}

// seenPoints computes, for each transaction, the file index before which the other writers'
// transactions are exactly those in the closure of its parents.
func seenPoints(t *Trace) ([]int, error) {
	n := t.NumAgents
	// clock[i][a] is the index of writer a's latest txn in the closure of txn i (itself included),
	// or -1: writers' txns form chains, so the closure holds all of a's txns up to it.
	clock := make([][]int, len(t.Txns))
	last := make([]int, n)             // latest txn of each writer so far
	nextOf := make([]int, len(t.Txns)) // the same writer's next txn, or len(t.Txns)
	for a := range last {
		last[a] = -1
	}
	for i := len(t.Txns) - 1; i >= 0; i-- {
		nextOf[i] = len(t.Txns)
	}
	for i, tx := range t.Txns {
		c := make([]int, n)
		for a := range c {
			c[a] = -1
		}
		for _, p := range tx.Parents {
			for a := range c {
				c[a] = max(c[a], clock[p][a])
			}
		}
		if c[tx.Agent] != last[tx.Agent] {
			return nil, fmt.Errorf("traces: txn %d of writer %d has not seen the writer's txn %d", i, tx.Agent, last[tx.Agent])
		}
		if last[tx.Agent] >= 0 {
			nextOf[last[tx.Agent]] = i
		}
		last[tx.Agent] = i
		c[tx.Agent] = i
		clock[i] = c
	}
	firstOf := make([]int, n)
	for a := range firstOf {
		firstOf[a] = len(t.Txns)
	}
	for i := len(t.Txns) - 1; i >= 0; i-- {
		firstOf[t.Txns[i].Agent] = i
	}
	seen := make([]int, len(t.Txns))
	for i, tx := range t.Txns {
		p := 0
		for a, x := range clock[i] {
			if a != tx.Agent {
				p = max(p, x+1)
			}
		}
		for a, x := range clock[i] {
			if a == tx.Agent {
				continue
			}
			unseen := firstOf[a]
			if x >= 0 {
				unseen = nextOf[x]
			}
			if unseen < p {
				return nil, fmt.Errorf("traces: txn %d has seen other writers up to txn %d but not writer %d's txn %d", i, p-1, a, unseen)
			}
		}
		seen[i] = p
	}
	return seen, nil
}

// Done reports whether every transaction has been replayed.
func (r *Replay) Done() bool { return r.next == len(r.trace.Txns) }

// Next replays the next transaction.
func (r *Replay) Next() (Step, error) {
	if r.Done() {
		return Step{}, errors.New("traces: replay is done")
	}
	i := r.next
	tx := r.trace.Txns[i]
	w := &r.writers[tx.Agent]
	st := Step{Index: i, Agent: tx.Agent, Seen: r.seen[i]}
	k := 0
	for k < len(w.unseen) && w.unseen[k].version <= st.Seen {
		st.Deliver = append(st.Deliver, w.unseen[k].op)
		w.viewLen = w.unseen[k].op.TargetLen()
		k++
	}
	w.unseen = w.unseen[k:]
	local, err := tx.Op(w.viewLen)
	if err != nil {
		return Step{}, fmt.Errorf("traces: txn %d: %w", i, err)
	}
	st.Local = local
	st.Base = max(st.Seen, w.last+1)
	op, atBase := local, false
	for j := range w.unseen {
		if !atBase && w.unseen[j].version > st.Base {
			st.AtBase, atBase = op, true
		}
		// The transaction being brought onto the server's history goes first (package ot's
		// convention: it wins ties with what the server applied while the writer had not seen it).
		op, w.unseen[j].op, err = ot.Transform(op, w.unseen[j].op)
		if err != nil {
			return Step{}, fmt.Errorf("traces: txn %d: %w", i, err)
		}
	}
	if !atBase {
		st.AtBase = op
	}
	st.Op = op
	w.viewLen = local.TargetLen()
	w.last = i
	for a := range r.writers {
		if a != tx.Agent {
			r.writers[a].unseen = append(r.writers[a].unseen, pending{version: i + 1, op: op})
		}
	}
	r.next++
	return st, nil
}

// Finish returns, for each writer, the server ops it has not yet received, each on its view
// after the ones before; applied in order they bring every view to the server's document.
func (r *Replay) Finish() [][]ot.Op {
	out := make([][]ot.Op, len(r.writers))
	for a := range r.writers {
		for _, p := range r.writers[a].unseen {
			out[a] = append(out[a], p.op)
		}
		r.writers[a].unseen = nil
	}
	return out
}

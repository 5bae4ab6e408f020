package realtime

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"

	"github.com/pagespace/pagespace/modules"
)

// sessionWriter writes the recovery session rows by group commit. A save waits until its row is
// written, as a statement of its own would; a write takes every row saved while the write before
// it ran, in one statement. So the sockets that connect and join at once share round trips,
// which is most of what a connect costs the database.
//
// One write runs at a time, and a row is read from its socket when it is saved, under the
// writer's lock: the row a socket ends with is its latest save's, whichever goroutines saved it.
type sessionWriter struct {
	b  *Broker
	mu sync.Mutex
	// next holds the rows saved since the running write began, by pid (a later save of a socket
	// replaces its earlier row); nil when there are none.
	next    *sessionBatch
	writing bool
	ended   chan struct{} // closed when the running write ends
}

// sessionBatch is the rows one write takes, and the signal that they are written.
type sessionBatch struct {
	rows    map[string]session
	written chan struct{}
}

// maxSessionRows bounds the rows of one statement (5 parameters each): within the databases'
// limits on bound parameters, and a batch that fails falls back to one row at a time.
const maxSessionRows = 200

// save writes the rows of clients and returns once they are written, or when the broker stops.
// A client without a pid (not connected yet) is skipped.
func (w *sessionWriter) save(clients ...*client) {
	now := modules.Now()
	w.mu.Lock()
	if w.next == nil {
		w.next = &sessionBatch{rows: map[string]session{}, written: make(chan struct{})}
	}
	batch, added := w.next, false
	for _, c := range clients {
		if pid := c.s.PID(); pid != "" {
			rooms, _ := json.Marshal(c.roomsCopy())
			batch.rows[pid] = session{PID: pid, UserID: c.userID, Rooms: string(rooms), SinceEvent: c.since, UpdatedAt: now}
			added = true
		}
	}
	if !added {
		w.mu.Unlock()
		return
	}
	for {
		if !w.writing {
			// Write the pending rows, this save's among them, then let the next writer in.
			w.writing, w.next = true, nil
			ended := make(chan struct{})
			w.ended = ended
			w.mu.Unlock()
			w.write(batch.rows)
			close(batch.written)
			w.mu.Lock()
			w.writing = false
			w.mu.Unlock()
			close(ended)
			return
		}
		ended := w.ended
		w.mu.Unlock()
		select {
		case <-batch.written:
			return
		case <-ended: // this batch's turn: its first saver to get here writes it
		case <-w.b.ctx.Done():
			return
		}
		w.mu.Lock()
		select {
		case <-batch.written:
			w.mu.Unlock()
			return
		default:
		}
	}
}

// forget drops pid's pending row, if any: the session was deleted.
func (w *sessionWriter) forget(pid string) {
	w.mu.Lock()
	if w.next != nil {
		delete(w.next.rows, pid)
	}
	w.mu.Unlock()
}

// write upserts rows, in pid order so that concurrent writers (other processes) lock them in
// one order, in statements of at most maxSessionRows rows. A statement that fails is retried
// row by row, so that one bad row (its user deleted meanwhile) does not lose the others.
func (w *sessionWriter) write(rows map[string]session) {
	all := make([]session, 0, len(rows))
	for _, r := range rows {
		all = append(all, r)
	}
	slices.SortFunc(all, func(a, b session) int { return strings.Compare(a.PID, b.PID) })
	for chunk := range slices.Chunk(all, maxSessionRows) {
		if err := w.upsert(chunk); err != nil && len(chunk) > 1 {
			for i := range chunk {
				_ = w.upsert(chunk[i : i+1])
			}
		}
	}
}

// upsert writes rows in one statement: a new session's row, or the rooms of a known one (its
// user and start stay).
func (w *sessionWriter) upsert(rows []session) error {
	var q strings.Builder
	q.WriteString("INSERT INTO realtime_sessions (pid, user_id, rooms, since_event, updated_at) VALUES ")
	args := make([]any, 0, 5*len(rows))
	for i, r := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
		args = append(args, r.PID, r.UserID, r.Rooms, r.SinceEvent, r.UpdatedAt)
	}
	q.WriteString(" ON CONFLICT (pid) DO UPDATE SET rooms = excluded.rooms, updated_at = excluded.updated_at")
	ctx, cancel := w.b.within(queryTimeout)
	defer cancel()
	err := w.b.db.WithContext(ctx).Exec(q.String(), args...).Error
	if err != nil && !w.b.closing.Load() {
		w.b.log.Warn("realtime: save session", "err", err.Error(), "rows", len(rows))
	}
	return err
}

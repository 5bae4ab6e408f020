package realtime

import (
	"time"

	"github.com/pagespace/pagespace/modules"
)

// busStatus is a status change on the bus: a status set on the sending process, or a clear.
type busStatus struct {
	AgentStatus
	DriveID string `json:"driveId,omitempty"`
	At      int64  `json:"at"`
	Cleared bool   `json:"cleared,omitempty"`
}

// procID names this process on the bus ("" without one).
func (b *Broker) procID() string {
	if b.cluster == nil {
		return ""
	}
	return b.cluster.id
}

// shareLocked sends a change made here to the other processes. Caller holds t.mu, so the
// changes of one status leave in the order they were made.
func (t *statuses) shareLocked(e *statusEntry) {
	if t.b.cluster == nil {
		return
	}
	t.b.cluster.enqueue(busMsg{Kind: "status", Status: &busStatus{AgentStatus: e.st, DriveID: e.driveID, At: e.at, Cleared: e.cleared}})
}

// share sends every status this process set, as one round between "sync" and "synced": a
// receiver then drops what it holds from this process that the round did not name (a clear it
// missed).
func (t *statuses) share(k *cluster) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k.enqueue(busMsg{Kind: "sync"})
	for _, e := range t.ownedLocked(func(*statusEntry) bool { return true }) {
		t.shareLocked(e)
	}
	k.enqueue(busMsg{Kind: "synced"})
}

// remote applies a change made on process proc, unless this process holds a later one.
func (t *statuses) remote(proc string, m *busStatus) {
	if m == nil || !modules.ValidID(m.PageID) || !modules.ValidID(m.AgentID) {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.pages[m.PageID][m.AgentID]
	if cur != nil && !cur.after(m.At, proc) {
		if cur.at == m.At && cur.proc == proc {
			cur.gen = t.rounds[proc] // shared again: still current
		}
		return
	}
	e := &statusEntry{st: m.AgentStatus, driveID: m.DriveID, at: m.At, proc: proc, gen: t.rounds[proc], cleared: m.Cleared}
	if e.cleared {
		t.replaceLocked(cur, e)
		return
	}
	if cur != nil {
		cur.stopTimer() // a later set elsewhere: that process ends it now
	}
	t.putLocked(e)
	t.emitLocked(e)
}

// syncStart begins a sharing round of proc.
func (t *statuses) syncStart(proc string) {
	t.mu.Lock()
	t.rounds[proc]++
	t.mu.Unlock()
}

// syncEnd ends proc's sharing round: its statuses the round did not name are gone.
func (t *statuses) syncEnd(proc string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	round := t.rounds[proc]
	t.dropLocked(func(e *statusEntry) bool { return e.proc == proc && e.gen < round })
}

// dropProcess forgets the statuses of a process that said goodbye or whose lease ran out.
func (t *statuses) dropProcess(proc string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.rounds, proc)
	t.dropLocked(func(e *statusEntry) bool { return e.proc == proc })
}

// dropLocked removes the statuses that match, telling their rooms. Caller holds t.mu.
func (t *statuses) dropLocked(match func(*statusEntry) bool) {
	for _, agents := range t.pages {
		for _, e := range agents {
			if !e.cleared && match(e) {
				t.removeLocked(e.st.PageID, e.st.AgentID)
				t.emitLocked(&statusEntry{st: AgentStatus{PageID: e.st.PageID, AgentID: e.st.AgentID}, cleared: true})
			}
		}
	}
}

// purge forgets the clears made before: a set older than them can no longer be on its way.
func (t *statuses) purge(before time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	limit := before.UnixNano()
	for _, agents := range t.pages {
		for _, e := range agents {
			if e.cleared && e.at < limit {
				t.removeLocked(e.st.PageID, e.st.AgentID)
			}
		}
	}
}

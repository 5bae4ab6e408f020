package realtime

import (
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// knownFor is how long a session's check is reused by further sockets of the session: the
// tabs of one browser, or a reconnect storm, connect without the session query. It bounds how
// stale a user's name can be on a new socket; an ended session is forgotten when its end is
// dispatched, not when this runs out.
const knownFor = 10 * time.Second

// knownSessions remembers the sessions whose check passed lately (Verifier.Connecting), with
// the user's name. Its fields are guarded by b.mu.
//
// Why a further socket may skip the query: it is counted among its user's sockets (under b.mu)
// before it looks here. A session's end dispatched before that forgot the entry; one dispatched
// after closes the socket. An end committed before the entry's query was seen by the query, so
// there is no entry. An entry is stored only if no session ended (on this process) since its
// socket was counted (gen), so an end dispatched while the query ran is never undone.
type knownSessions struct {
	m         map[string]knownSession // session id → its check
	gen       uint64                  // sessions ended so far
	nextSweep int                     // size of m at which expired entries are dropped
}

type knownSession struct {
	userID string
	name   string
	agent  bool
	until  time.Time
}

// lookupLocked returns the check of id's session if it is known. Caller holds b.mu.
func (k *knownSessions) lookupLocked(id modules.Identity, now time.Time) (knownSession, bool) {
	if id.KeyID != "" {
		return knownSession{}, false // agent keys are checked every time
	}
	s, ok := k.m[id.SessionID]
	if !ok || s.userID != id.UserID || !now.Before(s.until) {
		return knownSession{}, false
	}
	return s, true
}

// storeLocked remembers a passed check of id's session, unless a session ended since gen.
// Caller holds b.mu.
func (k *knownSessions) storeLocked(id modules.Identity, gen uint64, name string, agent bool, now time.Time) {
	if id.KeyID != "" || gen != k.gen {
		return
	}
	if k.m == nil {
		k.m = map[string]knownSession{}
	}
	if len(k.m) >= k.nextSweep {
		for sid, s := range k.m {
			if !now.Before(s.until) {
				delete(k.m, sid)
			}
		}
		k.nextSweep = 2*len(k.m) + 64
	}
	k.m[id.SessionID] = knownSession{userID: id.UserID, name: name, agent: agent, until: now.Add(knownFor)}
}

// endedLocked forgets what a session-ending access change ends: a session (ScopeSession) or
// every session of the users (ScopeAccounts). Caller holds b.mu.
func (k *knownSessions) endedLocked(a *eventlog.Access) {
	k.gen++
	switch a.Scope {
	case eventlog.ScopeSession:
		delete(k.m, a.Session)
	case eventlog.ScopeAccounts:
		for sid, s := range k.m {
			for _, u := range a.Users {
				if s.userID == u {
					delete(k.m, sid)
				}
			}
		}
	}
}

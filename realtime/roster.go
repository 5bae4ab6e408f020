package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pagespace/pagespace/modules"
	"github.com/pagespace/pagespace/permissions"
	"github.com/pagespace/pagespace/realtime/socketio"
	"gorm.io/gorm/clause"
)

// Drive presence statuses.
const (
	StatusOnline  = "online"  // a socket is connected and the user was active recently
	StatusIdle    = "idle"    // connected, but no activity for Config.IdleAfter
	StatusOffline = "offline" // no socket on any process
)

// MemberPresence is a drive member's presence as one recipient may see it: PageIDs lists only
// the pages of the drive the recipient may view.
type MemberPresence struct {
	UserID     string        `json:"userId"`
	Name       string        `json:"name"`
	IsAgent    bool          `json:"isAgent,omitempty"`
	Status     string        `json:"status"`
	LastSeenAt *modules.Time `json:"lastSeenAt"`
	PageIDs    []string      `json:"pageIds"`
}

// roster is drive presence: per user, whether a socket is connected (on this process or, with a
// bus, another), active or idle, and which pages the user views; and the coalescing of the
// presence_changed events that tell the drive rooms. It has its own lock, taken after the
// presence lock when both are held and never with the broker's, and does no database work under
// it.
type roster struct {
	b      *Broker
	mu     sync.Mutex
	users  map[string]*presenceUser // users with a socket here or elsewhere
	seen   map[string]lastSight     // users who went offline while this process ran
	drives map[string]*driveNews    // driveID → presence_changed coalescing
	conns  map[*client]struct{}     // sockets counted in users

	// memberships counts the membership changes applied (membership, driveGone), so that a
	// read of a user's drives that one overlapped is not kept (drivesOf).
	memberships uint64

	remotePages map[string]map[string]int // pageID → userID → processes where the user views it
	// agents are the users seen to be agents (a user's kind never changes), so that presence
	// shows them as agents also once they are offline or known only from another process.
	agents map[string]bool
}

// noteAgent records that userID is an agent.
func (r *roster) noteAgent(userID string) {
	r.mu.Lock()
	r.agents[userID] = true
	r.mu.Unlock()
}

// presenceUser is what the roster knows of one connected user.
type presenceUser struct {
	name string
	// drives are the drives the user is a member of: read for the user's first socket here (or
	// first news of it from another process), then kept current by the member events
	// (membership, driveGone). nil until read.
	drives map[string]struct{}
	local  procState // this process's sockets
	conns  int       // this process's sockets
	idle   *time.Timer
	remote map[string]procState // other processes holding a socket of the user, by process id
}

// lastSight is when a user went offline, and under which name.
type lastSight struct {
	at   time.Time
	name string
}

// procState is one process's view of a user.
type procState struct {
	Active     bool              `json:"active"`
	LastActive time.Time         `json:"lastActive"`
	Pages      map[string]string `json:"pages"` // pageID → driveID
}

// driveNews coalesces presence_changed for one drive: the first change goes out at once, later
// ones within PresenceInterval of the last send are folded into one trailing event.
type driveNews struct {
	last    time.Time
	timer   *time.Timer
	pending map[string]struct{} // users changed since the last send
}

// merged is a user's presence over every process.
type merged struct {
	status     string
	lastActive time.Time
	pages      map[string]string
}

func newRoster(b *Broker) *roster {
	return &roster{b: b, users: map[string]*presenceUser{}, seen: map[string]lastSight{},
		drives: map[string]*driveNews{}, conns: map[*client]struct{}{}, remotePages: map[string]map[string]int{},
		agents: map[string]bool{}}
}

func (u *presenceUser) merge() merged {
	m := merged{status: StatusOffline, pages: map[string]string{}}
	add := func(s procState) {
		if s.Active {
			m.status = StatusOnline
		} else if m.status == StatusOffline {
			m.status = StatusIdle
		}
		if s.LastActive.After(m.lastActive) {
			m.lastActive = s.LastActive
		}
		for p, d := range s.Pages {
			m.pages[p] = d
		}
	}
	if u.conns > 0 {
		add(u.local)
	}
	for _, s := range u.remote {
		add(s)
	}
	return m
}

// userLocked returns the entry of userID, made if needed. Caller holds r.mu.
func (r *roster) userLocked(userID, name string) *presenceUser {
	u := r.users[userID]
	if u == nil {
		u = &presenceUser{name: name, local: procState{Pages: map[string]string{}}, remote: map[string]procState{}}
		r.users[userID] = u
	}
	return u
}

// updateLocked runs change on userID's entry and schedules presence_changed for the drives
// whose view of the user it changed. Caller holds r.mu.
func (r *roster) updateLocked(userID string, change func(u *presenceUser)) {
	u := r.users[userID]
	if u == nil {
		return
	}
	before := u.merge()
	change(u)
	after := u.merge()
	if u.conns == 0 && len(u.remote) == 0 && len(u.local.Pages) == 0 {
		if u.idle != nil {
			u.idle.Stop()
		}
		delete(r.users, userID)
	}
	touched := map[string]struct{}{}
	if before.status != after.status {
		for d := range u.drives {
			touched[d] = struct{}{}
		}
	}
	for p, d := range before.pages {
		if _, still := after.pages[p]; !still {
			touched[d] = struct{}{}
		}
	}
	for p, d := range after.pages {
		if _, was := before.pages[p]; !was {
			touched[d] = struct{}{}
		}
	}
	for d := range touched {
		if _, member := u.drives[d]; member {
			r.markLocked(d, userID)
		}
	}
}

// markLocked records that userID changed in driveID and schedules the drive's event: at once
// when none went out within PresenceInterval, else at the end of it. Caller holds r.mu.
func (r *roster) markLocked(driveID, userID string) {
	st := r.drives[driveID]
	if st == nil {
		st = &driveNews{}
		r.drives[driveID] = st
	}
	if st.pending == nil {
		st.pending = map[string]struct{}{}
	}
	st.pending[userID] = struct{}{}
	if st.timer != nil {
		return // the pending event will carry it
	}
	// Sent from a timer's goroutine even when due at once: callers may hold the broker's lock
	// (a revocation leaves pages under it), and sending reads the recipients' access.
	wait := max(0, r.b.cfg.PresenceInterval-time.Since(st.last))
	st.timer = time.AfterFunc(wait, func() { r.flush(driveID, st) })
}

// flush sends driveID's pending changes when fired, its timer, fires.
func (r *roster) flush(driveID string, fired *driveNews) {
	r.mu.Lock()
	st := r.drives[driveID]
	if st != fired {
		r.mu.Unlock()
		return
	}
	st.timer, st.last = nil, time.Now()
	users := st.pending
	st.pending = nil
	entries := make([]memberEntry, 0, len(users))
	for userID := range users {
		entries = append(entries, r.entryLocked(userID, "", driveID, nil))
	}
	r.mu.Unlock()
	if len(entries) > 0 {
		r.deliver(driveID, entries)
	}
}

// memberEntry is a member's presence in one drive before it is shaped for a recipient.
type memberEntry struct {
	MemberPresence
	pages []string // every page of the drive the member views
}

// entryLocked is userID's presence in driveID. name and stored (the last-seen time kept in the
// database) stand in for a user the roster does not hold. Caller holds r.mu.
func (r *roster) entryLocked(userID, name, driveID string, stored *time.Time) memberEntry {
	e := memberEntry{MemberPresence: MemberPresence{UserID: userID, Name: name, Status: StatusOffline, IsAgent: r.agents[userID]}}
	seen := stored
	if last, ok := r.seen[userID]; ok {
		if seen == nil || last.at.After(*seen) {
			seen = &last.at
		}
		if e.Name == "" {
			e.Name = last.name
		}
	}
	if u := r.users[userID]; u != nil {
		m := u.merge()
		e.Name, e.Status = u.name, m.status
		if m.status != StatusOffline {
			seen = &m.lastActive
		}
		for p, d := range m.pages {
			if d == driveID {
				e.pages = append(e.pages, p)
			}
		}
		sort.Strings(e.pages)
	}
	if seen != nil {
		t := modules.Time(seen.UTC().Truncate(time.Millisecond))
		e.LastSeenAt = &t
	}
	return e
}

// shape is e as a recipient with view v sees it: only the pages v may view.
func (e memberEntry) shape(v permissions.DriveView) MemberPresence {
	out := e.MemberPresence
	out.PageIDs = []string{}
	for _, p := range e.pages {
		if v.CanOpen(p) {
			out.PageIDs = append(out.PageIDs, p)
		}
	}
	return out
}

// deliver sends presence_changed to the sockets of the drive's room whose users are members,
// each user's sockets the pages that user may view.
func (r *roster) deliver(driveID string, entries []memberEntry) {
	sort.Slice(entries, func(i, j int) bool { return entries[i].UserID < entries[j].UserID })
	byUser := map[string][]*socketio.Socket{}
	for _, s := range r.b.ns.To(modules.DriveRoom(driveID).String()).Sockets() {
		if c := clientOf(s); c != nil {
			byUser[c.userID] = append(byUser[c.userID], s)
		}
	}
	ctx, cancel := r.b.within(queryTimeout)
	defer cancel()
	userIDs := make([]string, 0, len(byUser))
	for u := range byUser {
		userIDs = append(userIDs, u)
	}
	views := r.b.cachedViews(ctx, userIDs, driveID)
	// Recipients who may view the same of the named pages get the same payload, encoded once.
	encoded := map[string]json.RawMessage{}
	for userID, socks := range byUser {
		v, ok := views[userID]
		if !ok || v.Role == permissions.NoRole {
			continue // grantees do not see the member list
		}
		var key strings.Builder
		for _, e := range entries {
			for _, p := range e.pages {
				if v.CanOpen(p) {
					key.WriteString(p + ",")
				}
			}
		}
		payload, done := encoded[key.String()]
		if !done {
			members := make([]MemberPresence, len(entries))
			for i, e := range entries {
				members[i] = e.shape(v)
			}
			payload = mustJSON(map[string]any{"driveId": driveID, "members": members})
			encoded[key.String()] = payload
		}
		for _, s := range socks {
			_ = s.Emit("presence_changed", payload)
			r.b.metrics.presenceSent.Add(1)
		}
	}
}

// cachedViews are the users' views of the drive: from the cache, read under one hold of b.mu,
// and resolved outside it for users the cache does not hold (not cached then: the dispatcher
// keeps the cache). A user whose view cannot be resolved is left out.
func (b *Broker) cachedViews(ctx context.Context, userIDs []string, driveID string) map[string]permissions.DriveView {
	out := make(map[string]permissions.DriveView, len(userIDs))
	var missing []string
	b.mu.Lock()
	for _, u := range userIDs {
		if e := b.cache[u][driveID]; e != nil {
			out[u] = e.view
		} else {
			missing = append(missing, u)
		}
	}
	b.mu.Unlock()
	for _, u := range missing {
		v, err := b.access.Drive(ctx, u, driveID)
		if err == nil {
			out[u] = v
		}
	}
	return out
}

// memberDrives lists the drives userID is a member of.
func (b *Broker) memberDrives(ctx context.Context, userID string) (map[string]struct{}, error) {
	ids, err := b.access.MemberDrives(ctx, userID)
	if err != nil {
		return nil, err
	}
	out := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		out[id] = struct{}{}
	}
	return out, nil
}

// withDrives runs step under r.mu with the drives userID is a member of, for the roster to keep
// on the user's entry: nil when the entry holds them already, or when they could not be read.
// They are read outside r.mu (one read for the sockets of a user that connect at once), and
// read again when a membership change was applied meanwhile: its event may have found no entry
// to update, or one that the read would then overwrite.
func (r *roster) withDrives(userID string, step func(drives map[string]struct{})) {
	ctx, cancel := r.b.within(queryTimeout)
	defer cancel()
	type read struct {
		drives map[string]struct{}
		seen   uint64 // r.memberships before the read
		err    error
	}
	for {
		r.mu.Lock()
		if u := r.users[userID]; u != nil && u.drives != nil {
			step(nil)
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		v, err := r.b.shared(ctx, "drives\x00"+userID, func(ctx context.Context) any {
			r.mu.Lock()
			seen := r.memberships
			r.mu.Unlock()
			drives, err := r.b.memberDrives(ctx, userID)
			return read{drives, seen, err}
		})
		rd, _ := v.(read)
		if err == nil {
			err = rd.err
		}
		if err != nil {
			r.b.log.Error("realtime: presence: memberships", "err", err.Error())
		}
		r.mu.Lock()
		if err != nil || r.memberships == rd.seen {
			step(rd.drives)
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
	}
}

// connect counts a socket that connected: its user is online. The other processes hear of it
// when it changes what they show: the user's first socket here, or one of a user who was idle
// (as an activity ping, a further socket of an active user does not tell them).
func (r *roster) connect(c *client) {
	share := false
	r.withDrives(c.userID, func(drives map[string]struct{}) {
		if _, dup := r.conns[c]; dup {
			return
		}
		r.conns[c] = struct{}{}
		u := r.userLocked(c.userID, c.name)
		if c.agent {
			r.agents[c.userID] = true
		}
		if u.drives == nil {
			u.drives = drives
		}
		share = u.conns == 0 || !u.local.Active
		r.updateLocked(c.userID, func(u *presenceUser) {
			u.conns++
			r.activeLocked(c.userID, u)
		})
	})
	if share {
		r.b.shareUser(c.userID)
	}
}

// activeLocked records activity of the user on this process and re-arms its idle timer.
// Caller holds r.mu.
func (r *roster) activeLocked(userID string, u *presenceUser) {
	u.local.Active, u.local.LastActive = true, time.Now()
	if u.idle != nil {
		u.idle.Stop()
	}
	var t *time.Timer
	t = time.AfterFunc(r.b.cfg.IdleAfter, func() {
		r.mu.Lock()
		cur := r.users[userID]
		if cur == nil || cur.idle != t {
			r.mu.Unlock()
			return
		}
		r.updateLocked(userID, func(u *presenceUser) { u.local.Active = false })
		r.mu.Unlock()
		r.b.shareUser(userID)
	})
	u.idle = t
}

// activity records a client's activity ping.
func (r *roster) activity(c *client) {
	r.mu.Lock()
	if _, counted := r.conns[c]; !counted {
		r.mu.Unlock()
		return
	}
	wasActive := r.users[c.userID].local.Active
	r.updateLocked(c.userID, func(u *presenceUser) { r.activeLocked(c.userID, u) })
	r.mu.Unlock()
	if !wasActive {
		r.b.shareUser(c.userID)
	}
}

// disconnect forgets a socket that ended. With the user's last socket on this process gone, the
// time is kept as the user's last-seen time.
func (r *roster) disconnect(c *client) {
	r.mu.Lock()
	if _, counted := r.conns[c]; !counted {
		r.mu.Unlock()
		return
	}
	delete(r.conns, c)
	last := false
	now := time.Now()
	r.updateLocked(c.userID, func(u *presenceUser) {
		u.conns--
		if u.conns == 0 {
			last = true
			u.local = procState{Pages: map[string]string{}}
			r.seen[c.userID] = lastSight{at: now, name: c.name}
		}
	})
	r.mu.Unlock()
	if last {
		r.b.shareUser(c.userID)
		r.b.storeLastSeen(c.userID, now)
	}
}

// viewingLocked records that the user started (on) or stopped viewing a page on this process.
// The caller holds the presence lock (not r.mu) and shares the user's new state with the other
// processes (shareUser) once it has let go of it.
func (r *roster) viewingLocked(userID, name, pageID, driveID string, on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.userLocked(userID, name)
	r.updateLocked(userID, func(u *presenceUser) {
		if on {
			u.local.Pages[pageID] = driveID
		} else {
			delete(u.local.Pages, pageID)
		}
	})
}

// membership follows member events: a member added shows in the drive's presence, a member
// removed (or a drive deleted) no longer does.
func (r *roster) membership(userID, driveID string, member bool) {
	r.mu.Lock()
	r.memberships++
	u := r.users[userID]
	if u != nil && u.drives != nil {
		if member {
			u.drives[driveID] = struct{}{}
			r.markLocked(driveID, userID)
		} else {
			delete(u.drives, driveID)
		}
	}
	r.mu.Unlock()
}

// driveGone forgets a deleted drive.
func (r *roster) driveGone(driveID string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.memberships++
	for _, u := range r.users {
		delete(u.drives, driveID)
	}
	if st := r.drives[driveID]; st != nil && st.timer != nil {
		st.timer.Stop()
	}
	delete(r.drives, driveID)
}

// lastSeen is the user_presence row: when a user's last socket closed.
type lastSeen struct {
	UserID     string    `gorm:"primaryKey"`
	LastSeenAt time.Time `gorm:"not null"`
}

func (lastSeen) TableName() string { return "user_presence" }

// storeLastSeen keeps the time a user's last socket on this process closed, for after a restart.
func (b *Broker) storeLastSeen(userID string, at time.Time) {
	ctx, cancel := b.within(queryTimeout)
	defer cancel()
	row := lastSeen{UserID: userID, LastSeenAt: at.UTC().Truncate(time.Millisecond)}
	err := b.db.WithContext(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "user_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"last_seen_at"}),
	}).Create(&row).Error
	if err != nil && !b.closing.Load() {
		b.log.Warn("realtime: presence: store last seen", "err", err.Error(), "user", userID)
	}
}

// storedLastSeen reads the stored last-seen times of userIDs, in batches that stay within the
// databases' limits on bound parameters.
func (b *Broker) storedLastSeen(ctx context.Context, userIDs []string) (map[string]time.Time, error) {
	out := make(map[string]time.Time)
	for ids := range slices.Chunk(userIDs, 500) {
		var rows []lastSeen
		if err := b.db.WithContext(ctx).Where("user_id IN ?", ids).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, row := range rows {
			out[row.UserID] = row.LastSeenAt
		}
	}
	return out, nil
}

// snapshot is the presence of every member of v's drive as v's user may see it.
func (r *roster) snapshot(ctx context.Context, v permissions.DriveView) ([]MemberPresence, error) {
	members, err := r.b.access.Members(ctx, v.DriveID)
	if err != nil {
		return nil, fmt.Errorf("realtime: presence snapshot: %w", err)
	}
	ids := make([]string, len(members))
	for i, m := range members {
		ids[i] = m.UserID
	}
	seen, err := r.b.storedLastSeen(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("realtime: presence snapshot: %w", err)
	}
	out := make([]MemberPresence, len(members))
	r.mu.Lock()
	for i, m := range members {
		if m.Kind == permissions.KindAgent {
			r.agents[m.UserID] = true
		}
		var at *time.Time
		if t, ok := seen[m.UserID]; ok {
			at = &t
		}
		out[i] = r.entryLocked(m.UserID, m.Name, v.DriveID, at).shape(v)
	}
	r.mu.Unlock()
	return out, nil
}

func (r *roster) stopAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, st := range r.drives {
		if st.timer != nil {
			st.timer.Stop()
		}
	}
	for _, u := range r.users {
		if u.idle != nil {
			u.idle.Stop()
		}
	}
}

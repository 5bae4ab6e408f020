package realtime

import (
	"context"
	"errors"
	"time"

	"github.com/pagespace/pagespace/permissions"
)

// Access is resolved outside b.mu and committed under it with a generation check. Every drive
// has a generation, which the dispatcher bumps (and drops the cached views of the drive) when it
// applies a change of access to the drive. A resolution notes the generation when it begins; a
// step taken under b.mu with it (a join, a recovery) first checks that the generation is
// unchanged, and resolves again when it is not, so a view read before a revocation is never
// applied after it.

// generations counts the access changes applied per drive. Guarded by b.mu.
type generations struct {
	byDrive map[string]uint64
	epoch   uint64 // the last generation given out, to any drive
	floor   uint64 // the generation of a drive not in byDrive
}

// maxTrackedDrives bounds generations.byDrive: past it the map is cleared and every drive gets
// one new generation, so resolutions in flight resolve once more.
const maxTrackedDrives = 10_000

func (g *generations) of(driveID string) uint64 {
	if n, ok := g.byDrive[driveID]; ok {
		return n
	}
	return g.floor
}

// bump gives driveID a generation no resolution in flight has noted.
func (g *generations) bump(driveID string) {
	if len(g.byDrive) >= maxTrackedDrives {
		clear(g.byDrive)
		g.epoch++
		g.floor = g.epoch
	}
	g.epoch++
	g.byDrive[driveID] = g.epoch
}

// viewKey names one user's view of one drive.
type viewKey struct{ userID, driveID string }

// fetched is a view resolved outside b.mu, with the generation of its drive when it began.
type fetched struct {
	view permissions.DriveView
	gen  uint64
	err  error
}

// viewSet holds the views a step resolved outside b.mu before it takes b.mu.
type viewSet map[viewKey]fetched

// errUnresolved is what a lookup under b.mu returns for a view it may not query for.
var errUnresolved = errors.New("realtime: view not resolved yet")

// fetch resolves userID's view of driveID outside b.mu: the cached one, or one read from the
// database. Concurrent reads of one view share a query (the sockets of a user connecting at once
// miss the cache together); each returns the generation noted before its query began, so a
// caller that noted a later one, past a change of access, finds the view stale under b.mu and
// resolves again rather than trust a query from before the change.
func (b *Broker) fetch(ctx context.Context, userID, driveID string) fetched {
	b.mu.Lock()
	gen := b.gens.of(driveID)
	e := b.cache[userID][driveID]
	b.mu.Unlock()
	if e != nil {
		return fetched{view: e.view, gen: gen}
	}
	f, err := b.shared(ctx, "view\x00"+userID+"\x00"+driveID, func(ctx context.Context) any {
		b.mu.Lock()
		gen := b.gens.of(driveID)
		b.mu.Unlock()
		v, err := b.access.Drive(ctx, userID, driveID)
		if err == nil {
			b.metrics.resolves.Add(1)
		}
		return fetched{view: v, gen: gen, err: err}
	})
	if err != nil {
		return fetched{gen: gen, err: err}
	}
	return f.(fetched)
}

// shared runs fn once for the callers that ask for key while it runs, and returns its result.
// fn runs within a timeout of its own rather than the first caller's; a caller whose ctx ends
// first gets ctx's error.
func (b *Broker) shared(ctx context.Context, key string, fn func(ctx context.Context) any) (any, error) {
	ch := b.flights.DoChan(key, func() (any, error) {
		fctx, cancel := b.within(stepTimeout)
		defer cancel()
		return fn(fctx), nil
	})
	select {
	case r := <-ch:
		return r.Val, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fetchAll resolves the views of set's keys not in it yet, outside b.mu.
func (b *Broker) fetchAll(ctx context.Context, set viewSet, keys []viewKey) {
	for _, k := range keys {
		if _, done := set[k]; !done {
			set[k] = b.fetch(ctx, k.userID, k.driveID)
		}
	}
}

// freshLocked reports whether every view of set is still current: no change of access to its
// drive was applied since its resolution began. Caller holds b.mu.
func (b *Broker) freshLocked(set viewSet) bool {
	for k, f := range set {
		if b.gens.of(k.driveID) != f.gen {
			b.metrics.stale.Add(1)
			return false
		}
	}
	return true
}

// keepLocked caches the fresh views of set for connected users who hold none. Caller holds b.mu.
func (b *Broker) keepLocked(set viewSet) {
	for k, f := range set {
		if f.err == nil && b.cache[k.userID][k.driveID] == nil {
			b.storeLocked(k.userID, k.driveID, f.view)
		}
	}
}

// storeLocked caches v as userID's view of driveID, replacing any, if the user is connected
// here, and arms the timer of its earliest expiring grant. Caller holds b.mu.
func (b *Broker) storeLocked(userID, driveID string, v permissions.DriveView) {
	if len(b.clients[userID]) == 0 {
		return // cache only for connected users
	}
	if b.cache[userID] == nil {
		b.cache[userID] = map[string]*driveEntry{}
	}
	b.cache[userID][driveID].stop()
	entry := &driveEntry{view: v}
	if until, ok := earliestExpiry(v); ok {
		entry.timer = time.AfterFunc(time.Until(until), func() { b.enqueue(expiryJob{userID, driveID}) })
	}
	b.cache[userID][driveID] = entry
}

// lookupLocked returns userID's view of driveID from the cache or set, without querying: a view
// in neither is recorded in missing and errUnresolved returned. Caller holds b.mu.
func (b *Broker) lookupLocked(set viewSet, userID, driveID string, missing map[viewKey]struct{}) (permissions.DriveView, error) {
	if e := b.cache[userID][driveID]; e != nil {
		return e.view, nil
	}
	k := viewKey{userID, driveID}
	if f, ok := set[k]; ok && b.gens.of(driveID) == f.gen {
		return f.view, f.err
	}
	missing[k] = struct{}{}
	return permissions.DriveView{}, errUnresolved
}

// withView resolves userID's view of driveID outside b.mu and runs step with it under b.mu,
// once no change of access to the drive was applied in between; a view made stale by one is
// resolved again, never used. It returns the view step ran with.
func (b *Broker) withView(ctx context.Context, userID, driveID string, step func(v permissions.DriveView)) (permissions.DriveView, error) {
	for {
		set := viewSet{}
		b.fetchAll(ctx, set, []viewKey{{userID, driveID}})
		f := set[viewKey{userID, driveID}]
		if f.err != nil {
			return f.view, f.err
		}
		b.mu.Lock()
		if b.freshLocked(set) {
			b.keepLocked(set)
			step(f.view)
			b.mu.Unlock()
			return f.view, nil
		}
		b.mu.Unlock()
		if err := ctx.Err(); err != nil {
			return permissions.DriveView{}, err
		}
	}
}

// earliestExpiry is the first future expiry of a grant that decides access in v.
func earliestExpiry(v permissions.DriveView) (time.Time, bool) {
	var first time.Time
	for _, pa := range v.Pages {
		if pa.Until != nil && (first.IsZero() || pa.Until.Before(first)) {
			first = *pa.Until
		}
	}
	return first, !first.IsZero()
}

package realtime_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/permissions"
	"github.com/pagespace/pagespace/realtime"
)

// gate holds back the first call that a test picks out: the call does its work, says so on
// entered, and returns only once release is closed (or its caller gives up). Later calls pass.
type gate struct {
	done    atomic.Bool
	entered chan struct{}
	release chan struct{}
	freed   sync.Once
}

func newGate() gate { return gate{entered: make(chan struct{}), release: make(chan struct{})} }

// free lets the held call return.
func (g *gate) free() { g.freed.Do(func() { close(g.release) }) }

// pass holds the calling goroutine when picked is true and no call was held before.
func (g *gate) pass(ctx context.Context, picked bool) {
	if !picked || g.done.Swap(true) {
		return
	}
	close(g.entered)
	select {
	case <-g.release:
	case <-ctx.Done():
	}
}

// heldAccess holds back the first resolution of one user's view of one drive (gate).
type heldAccess struct {
	realtime.Access
	user, drive atomic.Pointer[string]
	gate
}

func (h *heldAccess) Drive(ctx context.Context, userID, driveID string) (permissions.DriveView, error) {
	v, err := h.Access.Drive(ctx, userID, driveID)
	u, d := h.user.Load(), h.drive.Load()
	h.pass(ctx, u != nil && d != nil && *u == userID && *d == driveID)
	return v, err
}

// hold makes the next resolution of userID's view of driveID wait for release.
func (h *heldAccess) hold(userID, driveID string) {
	h.user.Store(&userID)
	h.drive.Store(&driveID)
}

// startHeld starts the app with a heldAccess wrapping the broker's resolver. release is closed
// at the end of the test at the latest.
func startHeld(t *testing.T) (*rt, *heldAccess) {
	h := &heldAccess{gate: newGate()}
	r := start(t, func(cfg *app.Config) {
		cfg.Realtime.WrapAccess = func(a realtime.Access) realtime.Access {
			h.Access = a
			return h
		}
	})
	t.Cleanup(h.free)
	return r, h
}

// callAsync sends a client event and delivers its ack on the returned channel.
func (s *sock) callAsync(event string, args ...any) <-chan map[string]any {
	out := make(chan map[string]any, 1)
	ctx := ctxT(s.r.t)
	go func() {
		var ack map[string]any
		if err := s.Call(ctx, &ack, event, args...); err != nil {
			ack = map[string]any{"callError": err.Error()}
		}
		out <- ack
	}()
	return out
}

// awaitEntered waits until the held resolution has read its view.
func awaitEntered(t *testing.T, h *heldAccess) {
	t.Helper()
	select {
	case <-h.entered:
	case <-ctxT(t).Done():
		t.Fatal("timed out waiting for the held resolution")
	}
}

func waitAck(t *testing.T, ch <-chan map[string]any) map[string]any {
	t.Helper()
	select {
	case ack := <-ch:
		return ack
	case <-ctxT(t).Done():
		t.Fatal("timed out waiting for an ack")
		return nil
	}
}

// A join whose access query is slow does not hold back delivery to the sockets of another drive:
// the broker's lock is not held across the query.
func TestSlowResolutionDoesNotDelayOtherDrives(t *testing.T) {
	r, h := startHeld(t)
	ann, carl := r.Signup("Ann"), r.Signup("Carl")
	driveA := r.CreateDrive(ann, "A")
	driveB := r.CreateDrive(carl, "B")
	pageB := r.CreatePage(carl, driveB, "DOCUMENT", "doc", "")
	listener := r.dial(carl)
	listener.join(pageB)

	h.hold(ann.ID, driveA)
	joiner := r.dial(ann)
	joined := joiner.callAsync("join_drive", driveA)
	awaitEntered(t, h)

	// Drive A's resolution is blocked; drive B's event is dispatched and delivered meanwhile.
	r.Do("PATCH", "/api/pages/"+pageB, carl.Token, map[string]any{"title": "while A resolves"}).Expect(200)
	ev := listener.await("page_updated")
	if pageIDOf(ev) != pageB {
		t.Fatalf("page_updated for %s, want %s", pageIDOf(ev), pageB)
	}
	select {
	case ack := <-joined:
		t.Fatalf("the held join answered before its resolution was released: %v", ack)
	default:
	}

	h.free()
	if ack := waitAck(t, joined); ack["ok"] != true {
		t.Fatalf("join_drive after release: %v", ack)
	}
}

// A join's resolution that a revocation applied meanwhile made stale is done again, not used: the
// removed member does not get into the drive's room with the view it had before.
func TestStaleJoinResolutionIsRetried(t *testing.T) {
	r, h := startHeld(t)
	ann, bob := r.Signup("Ann"), r.Signup("Bob")
	drive := r.CreateDrive(ann, "A")
	r.AddMember(ann, drive, bob, "MEMBER")
	staleBefore := r.metric("pagespace_realtime_stale_resolutions_total")

	h.hold(bob.ID, drive)
	victim := r.dial(bob)
	joined := victim.callAsync("join_drive", drive)
	awaitEntered(t, h) // it read Bob as a member

	// The removal returns once dispatched: the drive's generation has moved on.
	r.Do("DELETE", "/api/drives/"+drive+"/members/"+bob.ID, ann.Token, nil).Expect(204)
	h.free()

	if ack := waitAck(t, joined); ack["ok"] == true {
		t.Fatalf("join_drive succeeded with a view from before the removal: %v", ack)
	}
	if got := r.metric("pagespace_realtime_stale_resolutions_total"); got <= staleBefore {
		t.Fatalf("stale resolutions = %d, want more than %d", got, staleBefore)
	}
}

package realtime_test

import (
	"net/http"
	"testing"
)

// A write that changes nobody's access returns once its events are queued, without waiting for
// the dispatch of earlier events; one that changes access returns only once dispatched. The
// dispatcher is held on an access resolution (a member's role changed: the member's view of the
// drive is resolved again), and a chat message in another drive is posted meanwhile.
func TestWriteDoesNotWaitForEarlierDispatch(t *testing.T) {
	r, h := startHeld(t)
	ann, bob, carl := r.Signup("Ann"), r.Signup("Bob"), r.Signup("Carl")
	driveA := r.CreateDrive(ann, "A")
	driveC := r.CreateDrive(carl, "C")
	channel := r.CreatePage(carl, driveC, "CHANNEL", "chat", "")
	listener := r.dial(carl)
	listener.join(channel)
	r.AddMember(ann, driveA, bob, "MEMBER")
	member := r.dial(bob)
	if ack := member.call("join_drive", driveA); ack["ok"] != true {
		t.Fatalf("join_drive: %v", ack)
	}

	h.hold(bob.ID, driveA)
	changed := make(chan int, 1)
	go func() {
		status, _, err := r.Send("PATCH", "/api/drives/"+driveA+"/members/"+bob.ID, ann.Token,
			map[string]any{"role": "ADMIN"})
		if err != nil {
			status = -1
		}
		changed <- status
	}()
	awaitEntered(t, h) // the dispatcher is held in member_role_changed's resolution

	// The message's POST returns although the dispatcher has not reached its event.
	status, body, err := r.Send("POST", "/api/pages/"+channel+"/messages", carl.Token, map[string]any{"content": "meanwhile"})
	if err != nil || status != http.StatusCreated {
		t.Fatalf("post while the dispatcher is held: %d %s %v", status, body, err)
	}
	select {
	case s := <-changed:
		t.Fatalf("the role change (an access change) returned before its dispatch: %d", s)
	default:
	}

	h.free()
	if s := <-changed; s != http.StatusOK {
		t.Fatalf("role change: %d", s)
	}
	ev := listener.await("new_message")
	if pageIDOf(ev) != channel {
		t.Fatalf("new_message for %s, want %s", pageIDOf(ev), channel)
	}
}

package realtime_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// revocationKind is one way of losing access, set up and applied on a fresh drive.
type revocationKind struct {
	name         string
	victimIn     func(it *revIter)                       // gives the victim its access (membership, grant) before it joins
	joinDrive    bool                                    // the victim also joins the drive room
	revoke       func(it *revIter)                       // the revoking request
	lostDrive    bool                                    // the drive room is lost too, not only the channel's room
	reason       string                                  // access_revoked's reason
	isRevocation func(e apptest.Event, it *revIter) bool // finds the revocation in the log
}

// revIter is one iteration: a drive with a channel (the room that is lost), a public document
// (which a victim keeping the drive room must go on hearing about) and a folder.
type revIter struct {
	r                      *rt
	owner, victim          apptest.User
	drive, ch, doc, folder string
}

func (it *revIter) forVictim(e apptest.Event) bool  { return e.Payload["userId"] == it.victim.ID }
func (it *revIter) forChannel(e apptest.Event) bool { return e.Payload["pageId"] == it.ch }

// TestRevocationUnderConcurrentWrites repeats each kind of revocation while a writer posts to
// the channel and edits a document without pause, and checks what the revoked socket got:
// every channel event before the revocation, access_revoked for exactly the rooms lost, nothing
// about a lost room with an eventId after the revocation's, and (when it keeps the drive room)
// the drive's later events still.
func TestRevocationUnderConcurrentWrites(t *testing.T) {
	iterations := 10
	if testing.Short() {
		iterations = 2
	}
	kinds := []revocationKind{
		{
			name:      "member removed",
			victimIn:  func(it *revIter) { it.r.AddMember(it.owner, it.drive, it.victim, "MEMBER") },
			joinDrive: true, lostDrive: true, reason: "member_removed",
			revoke: func(it *revIter) {
				it.r.Do("DELETE", "/api/drives/"+it.drive+"/members/"+it.victim.ID, it.owner.Token, nil).Expect(204)
			},
			isRevocation: func(e apptest.Event, it *revIter) bool { return e.Type == "member_removed" && it.forVictim(e) },
		},
		{
			// MEMBER and VIEWER see the same pages, so lowering one to the other takes no room
			// away; an ADMIN lowered to VIEWER loses the private channel it saw as a manager.
			name: "role lowered",
			victimIn: func(it *revIter) {
				it.r.Do("PATCH", "/api/pages/"+it.ch, it.owner.Token, map[string]any{"isPrivate": true}).Expect(200)
				it.r.AddMember(it.owner, it.drive, it.victim, "ADMIN")
			},
			joinDrive: true, reason: "role_changed",
			revoke: func(it *revIter) {
				it.r.Do("PATCH", "/api/drives/"+it.drive+"/members/"+it.victim.ID, it.owner.Token, map[string]any{"role": "VIEWER"}).Expect(200)
			},
			isRevocation: func(e apptest.Event, it *revIter) bool { return e.Type == "member_role_changed" && it.forVictim(e) },
		},
		{
			// A non-member who sees the channel only through a grant, and so the drive room too.
			name:      "grant revoked",
			victimIn:  func(it *revIter) { it.r.Grant(it.owner, it.ch, it.victim, true, true, false, false) },
			joinDrive: true, lostDrive: true, reason: "permission_revoked",
			revoke: func(it *revIter) {
				it.r.Do("DELETE", "/api/pages/"+it.ch+"/permissions/"+it.victim.ID, it.owner.Token, nil).Expect(204)
			},
			isRevocation: func(e apptest.Event, it *revIter) bool { return e.Type == "permission_revoked" && it.forVictim(e) },
		},
		{
			name:      "page made private",
			victimIn:  func(it *revIter) { it.r.AddMember(it.owner, it.drive, it.victim, "MEMBER") },
			joinDrive: true, reason: "page_private",
			revoke: func(it *revIter) {
				it.r.Do("PATCH", "/api/pages/"+it.ch, it.owner.Token, map[string]any{"isPrivate": true}).Expect(200)
			},
			isRevocation: func(e apptest.Event, it *revIter) bool { return e.Type == "page_updated" && it.forChannel(e) },
		},
		{
			// A member may still see a trashed page through the drive room (the trash listing),
			// so the victim is only in the channel's room here.
			name:     "page trashed",
			victimIn: func(it *revIter) { it.r.AddMember(it.owner, it.drive, it.victim, "MEMBER") },
			reason:   "page_deleted",
			revoke: func(it *revIter) {
				it.r.Do("DELETE", "/api/pages/"+it.ch, it.owner.Token, nil).Expect(204)
			},
			isRevocation: func(e apptest.Event, it *revIter) bool { return e.Type == "page_deleted" && it.forChannel(e) },
		},
		{
			name: "page moved under a private folder",
			victimIn: func(it *revIter) {
				it.r.Do("PATCH", "/api/pages/"+it.folder, it.owner.Token, map[string]any{"isPrivate": true}).Expect(200)
				it.r.AddMember(it.owner, it.drive, it.victim, "MEMBER")
			},
			joinDrive: true, reason: "page_moved",
			revoke: func(it *revIter) {
				it.r.Do("POST", "/api/pages/"+it.ch+"/move", it.owner.Token, map[string]any{"parentId": it.folder, "position": 1}).Expect(200)
			},
			isRevocation: func(e apptest.Event, it *revIter) bool { return e.Type == "page_moved" && it.forChannel(e) },
		},
	}
	r := start(t)
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			rr := &rt{Env: r.Env, t: t}
			owner, victim := rr.Signup("Owner"), rr.Signup("Victim")
			v := rr.dial(victim).withBarrier()
			for i := range iterations {
				it := &revIter{r: rr, owner: owner, victim: victim}
				it.drive = rr.CreateDrive(owner, fmt.Sprint("D", i))
				it.ch = rr.CreatePage(owner, it.drive, "CHANNEL", "chat", "")
				it.doc = rr.CreatePage(owner, it.drive, "DOCUMENT", "doc", "")
				it.folder = rr.CreatePage(owner, it.drive, "FOLDER", "folder", "")
				k.victimIn(it)
				if !runRevocation(t, k, it, v) {
					t.Fatalf("iteration %d failed", i)
				}
			}
		})
	}
}

// runRevocation runs one iteration; it reports false after reporting errors.
func runRevocation(t *testing.T, k revocationKind, it *revIter, v *sock) bool {
	t.Helper()
	r := it.r
	v.join(it.ch)
	lost := []string{"page:" + it.ch}
	if k.joinDrive {
		if ack := v.call("join_drive", it.drive); ack["ok"] != true {
			t.Fatalf("join_drive: %v", ack)
		}
		if k.lostDrive {
			lost = append(lost, "drive:"+it.drive)
		}
	}
	v.sync() // the set-up's events
	base := r.LatestEvent()

	// The writer: messages to the channel and edits of the document, without pause.
	var (
		writes   atomic.Int64
		wrote    = make(chan struct{}, 1)
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		writeErr = make(chan error, 1)
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var err error
			if i%2 == 0 {
				_, err = try(r, "POST", "/api/pages/"+it.ch+"/messages", it.owner.Token, map[string]any{"content": fmt.Sprint("m", i)})
			} else {
				_, err = try(r, "PATCH", "/api/pages/"+it.doc, it.owner.Token, map[string]any{"title": fmt.Sprint("doc ", i)})
			}
			if err != nil {
				writeErr <- err
				return
			}
			writes.Add(1)
			select {
			case wrote <- struct{}{}:
			default:
			}
		}
	}()
	finish := func() {
		close(stop)
		wg.Wait()
	}

	// Revoke once the stream reaches the victim, then let the writer go on for a while.
	var got []sioclient.Event
	for {
		ev, err := v.Next(ctxT(t))
		if err != nil {
			finish()
			t.Fatalf("waiting for the stream: %v", err)
		}
		got = append(got, ev)
		if ev.Name == "new_message" && pageIDOf(ev) == it.ch {
			break
		}
	}
	k.revoke(it)
	target := writes.Load() + 6
	deadline := ctxT(t)
	for writes.Load() < target {
		select {
		case <-wrote:
		case err := <-writeErr:
			finish()
			t.Fatalf("writer: %v", err)
		case <-deadline.Done():
			finish()
			t.Fatalf("the writer stalled after %d writes", writes.Load())
		}
	}
	finish()
	select {
	case err := <-writeErr:
		t.Fatalf("writer: %v", err)
	default:
	}
	got = append(got, v.sync()...)

	// The revocation's position in the log, as the owner sees it.
	var revAt int64
	for _, e := range r.EventsAfter(it.owner, base) {
		if e.Payload["driveId"] == it.drive && k.isRevocation(e, it) {
			if revAt != 0 {
				t.Fatalf("two revocations in the log")
			}
			revAt, _ = strconv.ParseInt(e.EventID, 10, 64)
		}
	}
	if revAt == 0 {
		t.Fatalf("no revocation in the log")
	}

	ok := true
	fail := func(format string, args ...any) {
		t.Errorf(format, args...)
		ok = false
	}
	about := func(ev sioclient.Event) bool { // an event of a lost room
		p := payload(ev)
		return p["pageId"] == it.ch || (k.lostDrive && p["driveId"] == it.drive)
	}
	received := map[string]bool{}
	revokedAt := map[string]int{} // lost room → index of its access_revoked in got
	laterKept := 0                // events after the revocation about the drive the victim kept
	for i, ev := range got {
		if ev.Name == "access_revoked" {
			room, _ := payload(ev)["room"].(string)
			if _, dup := revokedAt[room]; dup || !slices.Contains(lost, room) {
				fail("access_revoked %v (lost rooms %v)", payload(ev), lost)
			}
			if payload(ev)["reason"] != k.reason {
				fail("access_revoked reason %v, want %s", payload(ev)["reason"], k.reason)
			}
			revokedAt[room] = i
			continue
		}
		if ev.Offset == "" {
			continue // viewers_updated
		}
		received[ev.Offset] = true
		id, _ := strconv.ParseInt(ev.Offset, 10, 64)
		if id > revAt && about(ev) {
			fail("%s %d about a lost room delivered after the revocation %d", ev.Name, id, revAt)
		}
		if id < revAt && about(ev) && len(revokedAt) > 0 {
			fail("%s %d (before the revocation %d) delivered after access_revoked", ev.Name, id, revAt)
		}
		if id > revAt && payload(ev)["driveId"] == it.drive {
			laterKept++
		}
	}
	for _, room := range lost {
		if _, seen := revokedAt[room]; !seen {
			fail("no access_revoked for %s (got %v)", room, names(got))
		}
	}
	if k.joinDrive && !k.lostDrive && laterKept == 0 {
		fail("the drive room the victim kept went silent after the revocation")
	}
	// Nothing was lost before the revocation.
	for _, e := range r.EventsAfter(it.owner, base, "new_message") {
		if id, _ := strconv.ParseInt(e.EventID, 10, 64); id < revAt && e.Payload["pageId"] == it.ch && !received[e.EventID] {
			fail("new_message %s before the revocation %d never arrived", e.EventID, revAt)
		}
	}
	if ack := v.call("join_page", it.ch); ack["ok"] != false {
		fail("rejoined the channel after the revocation: %v", ack)
	}
	if !ok {
		for _, ev := range got {
			t.Logf("  %s %s %s", ev.Name, ev.Offset, ev.Args[0])
		}
	}
	return ok
}

// try sends a request from a goroutine that is not the test's: errors are returned, not fatal.
func try(r *rt, method, path, token string, body any) (int, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequest(method, r.URL+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := r.Client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// TestRecoveryTellsOfRoomsLostWhileAway: a session that lost a room while disconnected is
// recovered without it, and is told so as a connected socket would have been, instead of
// silently never hearing from the room again.
func TestRecoveryTellsOfRoomsLostWhileAway(t *testing.T) {
	r := start(t)
	owner, member := r.Signup("Owner"), r.Signup("Member")
	d := r.CreateDrive(owner, "D")
	r.AddMember(owner, d, member, "MEMBER")
	ch := r.CreatePage(owner, d, "CHANNEL", "chat", "")
	doc := r.CreatePage(owner, d, "DOCUMENT", "doc", "")
	s := r.dial(member)
	s.join(ch)
	s.call("join_drive", d)
	r.Do("POST", "/api/pages/"+ch+"/messages", owner.Token, map[string]any{"content": "before"}).Expect(201)
	first := s.await("new_message")
	s.Close()
	<-s.Done

	r.Do("PATCH", "/api/pages/"+ch, owner.Token, map[string]any{"isPrivate": true}).Expect(200)
	r.Do("POST", "/api/pages/"+ch+"/messages", owner.Token, map[string]any{"content": "secret"}).Expect(201)
	r.Do("PATCH", "/api/pages/"+doc, owner.Token, map[string]any{"title": "still public"}).Expect(200)

	c, err := r.Dial(ctxT(t), map[string]any{"token": member.Token, "pid": s.PID, "offset": first.Offset}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.PID != s.PID {
		t.Fatal("not recovered")
	}
	// Up to the document's update (the last write): access_revoked for the channel, nothing of it.
	revoked := false
	for {
		ev, err := c.Next(ctxT(t))
		if err != nil {
			t.Fatalf("recovered socket: %v (access_revoked seen: %v)", err, revoked)
		}
		if pageIDOf(ev) == ch {
			t.Fatalf("recovered socket received %s of the channel it lost: %s", ev.Name, ev.Args[0])
		}
		if ev.Name == "access_revoked" {
			if p := payload(ev); p["room"] != "page:"+ch {
				t.Fatalf("access_revoked %v", p)
			}
			revoked = true
		}
		if ev.Name == "page_updated" && pageIDOf(ev) == doc {
			break
		}
	}
	if !revoked {
		t.Fatal("the recovered session was not told it lost the channel")
	}
}

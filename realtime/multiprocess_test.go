package realtime_test

import (
	"strconv"
	"testing"

	"github.com/pagespace/pagespace/app/apptest"
)

// Two servers on one PostgreSQL database: a write through one reaches sockets on the other, in
// order, and a revocation through one kicks sockets on the other.
func TestTwoProcessesShareEvents(t *testing.T) {
	if apptest.Dialect() != "postgres" {
		t.Skip("requires PostgreSQL: processes share events through LISTEN/NOTIFY (PAGESPACE_TEST_DB=postgres)")
	}
	cfg := apptest.Config(t)
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	b := &rt{Env: apptest.StartWith(t, cfg), t: t}
	owner, member := a.Signup("Owner"), a.Signup("Member")
	d := a.CreateDrive(owner, "D")
	a.AddMember(owner, d, member, "MEMBER")
	ch := a.CreatePage(owner, d, "CHANNEL", "chat", "")

	onB := b.dial(member)
	onB.join(ch)
	onB.call("join_drive", d)
	for i := range 3 {
		a.Do("POST", "/api/pages/"+ch+"/messages", owner.Token, map[string]any{"content": "from a " + strconv.Itoa(i)}).Expect(201)
	}
	prev := int64(0)
	for range 3 {
		ev := onB.await("new_message")
		id, _ := strconv.ParseInt(ev.Offset, 10, 64)
		if id <= prev {
			t.Fatalf("out of order or duplicated: %d after %d", id, prev)
		}
		prev = id
	}
	a.Do("DELETE", "/api/drives/"+d+"/members/"+member.ID, owner.Token, nil).Expect(204)
	rooms := map[string]bool{}
	for len(rooms) < 2 {
		ev := onB.await("access_revoked")
		rooms[payload(ev)["room"].(string)] = true
	}
	if !rooms["page:"+ch] || !rooms["drive:"+d] {
		t.Fatalf("revoked %v", rooms)
	}
}

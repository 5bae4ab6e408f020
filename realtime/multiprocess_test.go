package realtime_test

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

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

// An agent streams through two servers on one PostgreSQL database, its chunks alternating
// between them as a load balancer might send them (one chunk too large for the bus, whose
// receiver reads it from the database). A viewer on each server still gets every chunk once,
// in order, without a gap to fetch over.
func TestStreamAcrossProcesses(t *testing.T) {
	if apptest.Dialect() != "postgres" {
		t.Skip("requires PostgreSQL: processes share chunks through LISTEN/NOTIFY (PAGESPACE_TEST_DB=postgres)")
	}
	cfg := apptest.Config(t)
	unlimited(&cfg)
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	b := &rt{Env: apptest.StartWith(t, cfg), t: t}
	owner, ann, bob := a.Signup("Owner"), a.Signup("Ann"), a.Signup("Bob")
	d := a.CreateDrive(owner, "D")
	a.AddMember(owner, d, ann, "VIEWER")
	a.AddMember(owner, d, bob, "VIEWER")
	ch := a.CreatePage(owner, d, "CHANNEL", "chat", "")
	agent, _ := a.newAgent(owner, d, "Helper", "MEMBER")
	sa, sb := a.dial(ann), b.dial(bob)
	sa.join(ch)
	sb.join(ch)

	id := a.Do("POST", "/api/pages/"+ch+"/messages/streams", agent.Token, nil).Expect(201).ID()
	va, vb := &viewer{r: a, u: ann, page: ch, id: id}, &viewer{r: b, u: bob, page: ch, id: id}
	for i := 1; i <= 200; i++ {
		srv, text := a, chunkText(i)
		if i%2 == 0 {
			srv = b
		}
		if i == 100 {
			text = strings.Repeat("<", 6000) // 36,000 bytes once escaped: more than a NOTIFY takes
		}
		srv.Do("POST", "/api/pages/"+ch+"/messages/"+id+"/chunks", agent.Token, map[string]any{"seq": i, "text": text}).Expect(200)
	}
	b.Do("POST", "/api/pages/"+ch+"/messages/"+id+"/complete", agent.Token, map[string]any{"seq": 200}).Expect(200)
	for _, c := range []struct {
		v *viewer
		s *sock
	}{{va, sa}, {vb, sb}} {
		final := c.v.follow(c.s.Client)
		if c.v.text != final.Content || c.v.fetches != 0 {
			t.Errorf("%s assembled %d code points (fetching %d times); the message has %d", c.v.u.Name,
				utf8.RuneCountInString(c.v.text), c.v.fetches, utf8.RuneCountInString(final.Content))
		}
	}
	if fills := a.metric("pagespace_realtime_delta_fills_total"); fills < 1 {
		t.Fatalf("the server that lacked chunk 100 read the database %d times", fills)
	}
}

// metric reads a counter or gauge from /metrics.
func (r *rt) metric(name string) int64 {
	r.t.Helper()
	resp, err := http.Get(r.URL + "/metrics")
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				r.t.Fatalf("%s: %v", line, err)
			}
			return n
		}
	}
	r.t.Fatalf("/metrics has no %s", name)
	return 0
}

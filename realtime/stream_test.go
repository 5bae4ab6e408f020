package realtime_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// unlimited lifts the chunk rate, for agents that stream as fast as the server answers.
func unlimited(c *app.Config) { c.Stream.ChunkRate, c.Stream.ChunkBurst = 1e6, 1e6 }

// delta is a message_delta payload.
type delta struct {
	PageID    string `json:"pageId"`
	MessageID string `json:"messageId"`
	FromSeq   int64  `json:"fromSeq"`
	Seq       int64  `json:"seq"`
	Offset    int64  `json:"offset"`
	Text      string `json:"text"`
}

// streamed is the part of a message a viewer of a stream keeps.
type streamed struct {
	ID        string `json:"id"`
	Content   string `json:"content"`
	Status    string `json:"status"`
	StreamSeq int64  `json:"streamSeq"`
}

// viewer is one user's copy of a streamed message, kept by the algorithm of docs/realtime.md
// (Streamed messages): fetch the message (content up to streamSeq), then apply each delta with
// seq > the copy's seq, cutting what the copy already holds (offset), and fetch again on a gap.
type viewer struct {
	r       *rt
	u       apptest.User
	page    string
	id      string
	seq     int64
	text    string
	fetches int
	deltas  int
}

// fetch reads the message over REST and takes its content when it is not behind the copy.
func (v *viewer) fetch() {
	v.r.t.Helper()
	var m streamed
	v.r.Do("GET", "/api/pages/"+v.page+"/messages/"+v.id, v.u.Token, nil).Expect(200).JSON(&m)
	v.fetches++
	if m.StreamSeq >= v.seq {
		v.seq, v.text = m.StreamSeq, m.Content
	}
}

// apply applies one delta of the message.
func (v *viewer) apply(d delta) {
	v.r.t.Helper()
	if d.MessageID != v.id || d.Seq <= v.seq {
		return // another message, or chunks the copy has
	}
	v.deltas++
	if d.FromSeq > v.seq+1 {
		v.fetch() // chunks this copy never got
		if d.Seq <= v.seq {
			return
		}
	}
	have := int64(utf8.RuneCountInString(v.text)) - d.Offset
	if d.FromSeq > v.seq+1 || have < 0 || have > int64(utf8.RuneCountInString(d.Text)) {
		v.r.t.Fatalf("%s: delta %d..%d at offset %d does not follow a copy at seq %d of %d code points",
			v.u.Name, d.FromSeq, d.Seq, d.Offset, v.seq, utf8.RuneCountInString(v.text))
	}
	v.text += string([]rune(d.Text)[have:])
	v.seq = d.Seq
}

// follow applies the deltas the socket received until message_updated ends the message, and
// returns it. Deltas that arrive after it (a gap another process filled late) are applied too,
// until the copy reaches the final streamSeq.
func (v *viewer) follow(s *sioclient.Client) streamed {
	v.r.t.Helper()
	var final streamed
	for final.ID == "" || v.seq < final.StreamSeq {
		ev, err := s.Next(ctxT(v.r.t))
		if err != nil {
			v.r.t.Fatalf("%s: at seq %d: %v", v.u.Name, v.seq, err)
		}
		switch ev.Name {
		case "message_delta":
			var d delta
			if err := ev.Decode(0, &d); err != nil {
				v.r.t.Fatal(err)
			}
			v.apply(d)
		case "message_updated":
			var p struct{ Message streamed }
			if err := ev.Decode(0, &p); err != nil {
				v.r.t.Fatal(err)
			}
			if p.Message.ID == v.id && p.Message.Status != "streaming" {
				final = p.Message
			}
		}
	}
	return final
}

// drain applies every delta a closed socket had received.
func (v *viewer) drain(s *sioclient.Client) {
	v.r.t.Helper()
	for ev := range s.Events {
		if ev.Name == "message_delta" {
			var d delta
			if err := ev.Decode(0, &d); err != nil {
				v.r.t.Fatal(err)
			}
			v.apply(d)
		}
	}
}

// chunkText is the text of chunk i: ASCII, a two-byte letter and a code point beyond the BMP
// (two UTF-16 units), so that offsets count code points.
func chunkText(i int) string { return fmt.Sprintf("%d·ü😀 ", i) }

// TestAgentStreamsToViewers is the scenario: an agent streams 1,000 chunks (over REST
// and over its socket) to a channel. Ann watches from the start, Bob joins at chunk 500, Cid's
// transport drops at chunk 700 and he comes back (recovering his session) at 750. Each copy,
// built from the deltas by the documented algorithm, equals the final message, and the event
// log holds the start and the end only.
func TestAgentStreamsToViewers(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL", unlimited)
	r, ch, agent := w.r, w.page, w.agent
	ann, bob, cid := r.Signup("Ann"), r.Signup("Bob"), r.Signup("Cid")
	for _, u := range []apptest.User{ann, bob, cid} {
		r.AddMember(w.owner, w.drive, u, "VIEWER")
	}
	sa, sc := r.dial(ann), r.dial(cid)
	sa.join(ch)
	sc.join(ch)
	as := r.dial(agent)
	after := r.LatestEvent()

	id := r.Do("POST", "/api/pages/"+ch+"/messages/streams", agent.Token, nil).Expect(201).ID()
	va := &viewer{r: r, u: ann, page: ch, id: id}
	vb := &viewer{r: r, u: bob, page: ch, id: id}
	vc := &viewer{r: r, u: cid, page: ch, id: id}
	var sb *sock
	cOld := sc
	for i := 1; i <= 1000; i++ {
		switch i {
		case 501: // Bob opens the channel mid-stream: join, then fetch
			sb = r.dial(bob)
			sb.join(ch)
			vb.fetch()
		case 701:
			sc.Close() // a network loss
		case 751: // Cid is back: what he had, then his session recovered, then a fetch
			vc.drain(sc.Client)
			c, err := r.Dial(ctxT(t), map[string]any{"token": cid.Token, "pid": sc.PID, "offset": sc.Offset()}, nil)
			if err != nil || c.PID != sc.PID {
				t.Fatalf("recovery: %v (pid %q, was %q)", err, c.PID, sc.PID)
			}
			t.Cleanup(func() { c.Close() })
			sc = &sock{Client: c, r: r, u: cid}
			vc.fetch()
		}
		if i%3 == 0 {
			ack := as.call("stream_chunk", map[string]any{"messageId": id, "seq": i, "text": chunkText(i)})
			if ack["ok"] != true || ack["seq"] != float64(i) {
				t.Fatalf("stream_chunk %d: %v", i, ack)
			}
			continue
		}
		r.Do("POST", "/api/pages/"+ch+"/messages/"+id+"/chunks", agent.Token, map[string]any{"seq": i, "text": chunkText(i)}).Expect(200)
	}
	var want strings.Builder
	for i := 1; i <= 1000; i++ {
		want.WriteString(chunkText(i))
	}
	var done streamed
	r.Do("POST", "/api/pages/"+ch+"/messages/"+id+"/complete", agent.Token, map[string]any{"seq": 1000}).Expect(200).JSON(&done)
	if done.Content != want.String() || done.Status != "complete" || done.StreamSeq != 1000 {
		t.Fatalf("completed: %d code points at seq %d, %s", utf8.RuneCountInString(done.Content), done.StreamSeq, done.Status)
	}

	for _, c := range []struct {
		v       *viewer
		s       *sock
		fetches int
	}{{va, sa, 0}, {vb, sb, 1}, {vc, sc, 1}} {
		final := c.v.follow(c.s.Client)
		if c.v.text != final.Content || c.v.seq != 1000 {
			t.Errorf("%s assembled %d code points up to seq %d; the message has %d", c.v.u.Name,
				utf8.RuneCountInString(c.v.text), c.v.seq, utf8.RuneCountInString(final.Content))
		}
		if c.v.fetches != c.fetches {
			t.Errorf("%s fetched %d times, want %d: deltas came with a gap", c.v.u.Name, c.v.fetches, c.fetches)
		}
	}
	if cOld.Reason() != "transport close" {
		t.Fatalf("Cid's first socket ended with %q", cOld.Reason())
	}
	t.Logf("deltas applied: Ann %d, Bob %d, Cid %d (for 1,000 chunks)", va.deltas, vb.deltas, vc.deltas)

	var types []string
	for _, e := range r.EventsAfter(w.owner, after) {
		if m, ok := e.Payload["message"].(map[string]any); ok && m["id"] == id {
			types = append(types, e.Type)
		}
	}
	if !slices.Equal(types, []string{"new_message", "message_updated"}) {
		t.Fatalf("the event log holds %v for the stream", types)
	}
}

// TestStopStream: someone with edit stops an agent's stream; the agent's socket is told at once
// (stream_stopped, in its user room) and its later chunks are refused.
func TestStopStream(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	r, ch, agent := w.r, w.page, w.agent
	as := r.dial(agent)
	id := r.Do("POST", "/api/pages/"+ch+"/messages/streams", agent.Token, map[string]any{}).Expect(201).ID()
	r.Do("POST", "/api/pages/"+ch+"/messages/"+id+"/chunks", agent.Token, map[string]any{"seq": 1, "text": "Once upon"}).Expect(200)
	mia := r.Signup("Mia")
	r.AddMember(w.owner, w.drive, mia, "MEMBER")

	r.Do("POST", "/api/pages/"+ch+"/messages/"+id+"/stop", mia.Token, nil).Expect(200)
	ev := as.await("stream_stopped")
	if p := payload(ev); p["messageId"] != id || p["by"] != mia.ID || p["pageId"] != ch || ev.Offset == "" {
		t.Fatalf("stream_stopped %v (offset %q)", p, ev.Offset)
	}
	r.Do("POST", "/api/pages/"+ch+"/messages/"+id+"/chunks", agent.Token, map[string]any{"seq": 2, "text": " a time"}).Expect(409)
	ack := as.call("stream_chunk", map[string]any{"messageId": id, "seq": 2, "text": " a time"})
	e, _ := ack["error"].(map[string]any)
	if d, _ := e["details"].(map[string]any); ack["ok"] != false || e["code"] != "stream_ended" || d["status"] != "stopped" {
		t.Fatalf("a chunk after the stop: %v", ack)
	}
}

// TestStreamKeyRevoked: revoking the key an agent streams with disconnects its socket, answers
// its REST calls 401 and interrupts the message (key_revoked), in the revoking request; a stream
// of its other key goes on until the agent is removed (user_deleted).
func TestStreamKeyRevoked(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	r, ch, agent := w.r, w.page, w.agent
	k2 := r.Do("POST", "/api/drives/"+w.drive+"/agents/"+agent.ID+"/keys", w.owner.Token, nil).Expect(201).Map()
	second := apptest.User{ID: agent.ID, Name: agent.Name, Token: k2["token"].(string)}
	as := r.dial(agent)
	as.join(ch)
	o := r.dial(w.owner).withBarrier()
	o.join(ch)

	first := r.Do("POST", "/api/pages/"+ch+"/messages/streams", agent.Token, nil).Expect(201).ID()
	other := r.Do("POST", "/api/pages/"+ch+"/messages/streams", second.Token, nil).Expect(201).ID()
	r.Do("POST", "/api/pages/"+ch+"/messages/"+first+"/chunks", agent.Token, map[string]any{"seq": 1, "text": "half"}).Expect(200)
	o.sync()

	r.Do("DELETE", "/api/drives/"+w.drive+"/agents/"+agent.ID+"/keys/"+w.keyID, w.owner.Token, nil).Expect(204)
	if ev := as.await("access_revoked"); payload(ev)["reason"] != "key_revoked" {
		t.Fatalf("access_revoked %v", payload(ev))
	}
	waitClosed(t, as)
	r.Do("POST", "/api/pages/"+ch+"/messages/"+first+"/chunks", agent.Token, map[string]any{"seq": 2, "text": " more"}).Expect(401)
	ended := interruptions(t, o.sync())
	if m := ended[first]; m.Status != "interrupted" || m.Content != "half" || m.StatusReason != "key_revoked" || len(ended) != 1 {
		t.Fatalf("after the revocation: %+v", ended)
	}
	r.Do("POST", "/api/pages/"+ch+"/messages/"+other+"/chunks", second.Token, map[string]any{"seq": 1, "text": "on"}).Expect(200)

	r.Do("DELETE", "/api/drives/"+w.drive+"/agents/"+agent.ID, w.owner.Token, nil).Expect(204)
	ended = interruptions(t, o.sync())
	if m := ended[other]; m.Status != "interrupted" || m.StatusReason != "user_deleted" || m.Content != "on" || len(ended) != 1 {
		t.Fatalf("after the removal: %+v", ended)
	}
}

// endedMsg is a streamed message as message_updated shows it ended.
type endedMsg struct {
	streamed
	StatusReason string `json:"statusReason"`
}

// interruptions returns the messages that message_updated events among evs show.
func interruptions(t *testing.T, evs []sioclient.Event) map[string]endedMsg {
	t.Helper()
	out := map[string]endedMsg{}
	for _, ev := range evs {
		if ev.Name != "message_updated" {
			continue
		}
		var p struct{ Message endedMsg }
		if err := ev.Decode(0, &p); err != nil {
			t.Fatal(err)
		}
		out[p.Message.ID] = p.Message
	}
	return out
}

// TestStreamChunkOverSocket: stream_chunk follows the REST chunk's rules and answers its errors
// with their details.
func TestStreamChunkOverSocket(t *testing.T) {
	w := newAgentWorld(t, "CHANNEL")
	r, ch, agent := w.r, w.page, w.agent
	as := r.dial(agent)
	id := r.Do("POST", "/api/pages/"+ch+"/messages/streams", agent.Token, nil).Expect(201).ID()
	owners := r.Do("POST", "/api/pages/"+ch+"/messages/streams", w.owner.Token, nil).Expect(201).ID()

	code := func(ack map[string]any) (string, map[string]any) {
		e, _ := ack["error"].(map[string]any)
		d, _ := e["details"].(map[string]any)
		code, _ := e["code"].(string)
		return code, d
	}
	if ack := as.call("stream_chunk", map[string]any{"messageId": id, "seq": 1, "text": "a"}); ack["ok"] != true || ack["seq"] != 1.0 {
		t.Fatalf("chunk: %v", ack)
	}
	if ack := as.call("stream_chunk", map[string]any{"messageId": id, "seq": 1, "text": "a"}); ack["ok"] != true || ack["duplicate"] != true {
		t.Fatalf("repeated chunk: %v", ack)
	}
	if c, d := code(as.call("stream_chunk", map[string]any{"messageId": id, "seq": 3, "text": "c"})); c != "seq_gap" || d["expectedSeq"] != 2.0 {
		t.Fatalf("gap: %s %v", c, d)
	}
	if c, _ := code(as.call("stream_chunk", map[string]any{"messageId": owners, "seq": 1, "text": "x"})); c != "forbidden" {
		t.Fatalf("someone else's stream: %s", c)
	}
	if c, _ := code(as.call("stream_chunk", map[string]any{"messageId": "0193b1c4-6f3b-7d4e-a021-3b5c7d9e1f41", "seq": 1, "text": "x"})); c != "not_found" {
		t.Fatalf("unknown message: %s", c)
	}
	for _, arg := range []any{id, map[string]any{}, map[string]any{"messageId": id, "seq": 2},
		map[string]any{"messageId": id, "text": "x"}, map[string]any{"messageId": "", "seq": 2, "text": "x"},
		map[string]any{"messageId": id, "seq": 2, "text": "x", "more": true}, map[string]any{"messageId": id, "seq": 0, "text": "x"},
		map[string]any{"messageId": id, "seq": 2, "text": "a\u0001"}, json.RawMessage(`{"messageId":"` + id + `","seq":2,"text":"\ud800"}`)} {
		if c, _ := code(as.call("stream_chunk", arg)); c != "invalid_request" {
			t.Fatalf("stream_chunk %v: %s", arg, c)
		}
	}
	if c, _ := code(as.call("stream_chunk", map[string]any{"messageId": id, "seq": 2, "text": strings.Repeat("é", 4097)})); c != "payload_too_large" {
		t.Fatalf("a chunk over 8 KiB: %s", c)
	}
	var m streamed
	r.Do("GET", "/api/pages/"+ch+"/messages/"+id, agent.Token, nil).Expect(200).JSON(&m)
	if m.Content != "a" || m.StreamSeq != 1 {
		t.Fatalf("after the socket's chunks: %+v", m)
	}
}

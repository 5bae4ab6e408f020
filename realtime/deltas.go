package realtime

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/modules"
)

// The chunks of a streamed message reach viewers as message_delta events, which no log keeps.
// Each process sends the sockets of a message's page one ordered run of deltas per message:
// every delta starts where the one before it ended (fromSeq = the last seq + 1), with the text
// of the chunks fromSeq..seq, at most one every deltaInterval (the first at once). A process
// learns chunks from its own requests and from the other processes over the bus, where they may
// come late, out of order or never (the bus is lossy, and a chunk too large for it travels
// without its text). When the next chunk is missing for deltaGapWait, the process reads the
// message from the database instead, which holds every accepted chunk, and sends what it lacked.
// So viewers of every process see each message's chunks in order, each once, as long as their
// socket is connected; offset lets a client that fetched the message meanwhile cut what it has.

// Timing of message_delta.
const (
	deltaInterval = 50 * time.Millisecond  // at most 20 deltas a second per message and process
	deltaGapWait  = 250 * time.Millisecond // how long a missing chunk may be awaited from the bus
	deltaForget   = 2 * time.Minute        // a message without chunks for this long is forgotten
)

// piece is the chunks fromSeq..seq of a message, whose text starts offset code points into its
// content. Omitted: the text did not fit a bus message; the receiver reads it from the database.
type piece struct {
	PageID    string `json:"p"`
	MessageID string `json:"m"`
	FromSeq   int64  `json:"f"`
	Seq       int64  `json:"s"`
	Offset    int64  `json:"o"`
	Text      string `json:"x,omitempty"`
	Omitted   bool   `json:"om,omitempty"`
}

// deltaHub holds the streams this process is sending deltas of.
type deltaHub struct {
	b       *Broker
	mu      sync.Mutex
	streams map[string]*streamDeltas // by message id
	stopped bool
	running sync.WaitGroup // timer callbacks under way
}

// streamDeltas is one message's deltas on this process. Its timer flushes, fills gaps and
// forgets it; all under mu, so the message's deltas go out one at a time, in order.
type streamDeltas struct {
	mu        sync.Mutex
	messageID string
	pageID    string
	next      int64   // the seq the next delta starts with (every stream starts at 1)
	offset    int64   // code points of the message sent so far
	pending   []piece // learned, not yet sent, by FromSeq
	own       []piece // accepted by this process, not yet shared with the others
	sentAt    time.Time
	gapSince  time.Time // since when pending waits for a missing chunk (zero: it does not)
	touched   time.Time
	timer     *time.Timer
	timerAt   time.Time
	gen       int  // the current timer's generation
	gone      bool // forgotten: later pieces make a new one
}

func newDeltaHub(b *Broker) *deltaHub {
	return &deltaHub{b: b, streams: map[string]*streamDeltas{}}
}

// add takes a piece learned here (own: accepted by this process) or from another process.
func (h *deltaHub) add(p piece, own bool) {
	for {
		h.mu.Lock()
		if h.stopped {
			h.mu.Unlock()
			return
		}
		s := h.streams[p.MessageID]
		if s == nil {
			s = &streamDeltas{messageID: p.MessageID, pageID: p.PageID, next: 1}
			if h.b.ns.RoomSize(modules.PageRoom(p.PageID).String()) == 0 {
				s.next, s.offset = p.FromSeq, p.Offset // nobody here has seen any of it
			}
			h.streams[p.MessageID] = s
		}
		h.mu.Unlock()
		s.mu.Lock()
		if s.gone { // forgotten meanwhile
			s.mu.Unlock()
			continue
		}
		now := time.Now()
		s.touched = now
		if p.Seq >= s.next {
			i, _ := slices.BinarySearchFunc(s.pending, p.FromSeq, func(q piece, from int64) int { return cmp.Compare(q.FromSeq, from) })
			s.pending = slices.Insert(s.pending, i, p)
		}
		if own {
			s.own = append(s.own, p)
		}
		if now.Sub(s.sentAt) >= deltaInterval {
			h.flush(s, now, false) // the first chunk in a while goes at once
		} else {
			s.arm(h, s.sentAt.Add(deltaInterval))
		}
		s.mu.Unlock()
		return
	}
}

// end sends what is pending for a message whose stream ends (what a gap holds back follows
// from the database, by the timer).
func (h *deltaHub) end(messageID string) {
	h.mu.Lock()
	s := h.streams[messageID]
	h.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.gone {
		h.flush(s, time.Now(), false)
	}
}

// stop forgets every stream and waits for timer callbacks under way.
func (h *deltaHub) stop() {
	h.mu.Lock()
	h.stopped = true
	streams := h.streams
	h.streams = map[string]*streamDeltas{}
	h.mu.Unlock()
	for _, s := range streams {
		s.mu.Lock()
		s.gone = true
		if s.timer != nil {
			s.timer.Stop()
		}
		s.mu.Unlock()
	}
	h.running.Wait()
}

// arm makes s's timer fire at at, unless it fires sooner already. Caller holds s.mu.
func (s *streamDeltas) arm(h *deltaHub, at time.Time) {
	if s.timer != nil && !s.timerAt.After(at) {
		return
	}
	if s.timer != nil {
		s.timer.Stop()
	}
	s.gen++
	gen := s.gen
	s.timerAt = at
	s.timer = time.AfterFunc(time.Until(at), func() { h.fire(s, gen) })
}

// fire is s's timer: flush (filling a gap from the database if it has waited long enough), or
// forget s after deltaForget without chunks.
func (h *deltaHub) fire(s *streamDeltas, gen int) {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		return
	}
	h.running.Add(1)
	h.mu.Unlock()
	defer h.running.Done()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gone || gen != s.gen {
		return
	}
	s.timer = nil
	now := time.Now()
	if len(s.pending) > 0 || len(s.own) > 0 {
		h.flush(s, now, true)
		return
	}
	if now.Sub(s.touched) >= deltaForget {
		h.forget(s)
		return
	}
	s.arm(h, s.touched.Add(deltaForget))
}

// forget drops s; later pieces of its message start afresh. Caller holds s.mu.
func (h *deltaHub) forget(s *streamDeltas) {
	s.gone = true
	if s.timer != nil {
		s.timer.Stop()
	}
	h.mu.Lock()
	if h.streams[s.messageID] == s {
		delete(h.streams, s.messageID)
	}
	h.mu.Unlock()
}

// flush shares s's own pieces with the other processes, sends the sockets here what follows
// on from the last delta, and, when a chunk is missing, waits for it or (mayRead, after
// deltaGapWait) reads it from the database. Caller holds s.mu.
func (h *deltaHub) flush(s *streamDeltas, now time.Time, mayRead bool) {
	h.share(s)
	h.sendRun(s, now)
	if len(s.pending) == 0 {
		s.gapSince = time.Time{}
		s.arm(h, s.touched.Add(deltaForget))
		return
	}
	if s.gapSince.IsZero() {
		s.gapSince = now
	}
	if !mayRead || now.Sub(s.gapSince) < deltaGapWait {
		s.arm(h, later(s.gapSince.Add(deltaGapWait), s.sentAt.Add(deltaInterval)))
		return
	}
	if !h.fill(s, now) {
		h.forget(s)
		return
	}
	h.sendRun(s, now) // what was pending beyond the gap
	s.gapSince = time.Time{}
	if len(s.pending) > 0 {
		s.gapSince = now
		s.arm(h, now.Add(deltaGapWait))
	}
}

// sendRun sends, as one message_delta, the pending chunks that follow on from s.next without a
// gap, cutting what a piece repeats of what was sent. Caller holds s.mu.
func (h *deltaHub) sendRun(s *streamDeltas, now time.Time) {
	from, offset := s.next, s.offset
	var text strings.Builder
	i := 0
	for ; i < len(s.pending); i++ {
		p := s.pending[i]
		if p.Seq < s.next {
			continue // sent already
		}
		cut := s.offset - p.Offset
		if p.FromSeq > s.next || p.Omitted || cut < 0 || cut > int64(utf8.RuneCountInString(p.Text)) {
			break // a gap, or text only the database has
		}
		t := dropRunes(p.Text, cut)
		text.WriteString(t)
		s.offset += int64(utf8.RuneCountInString(t))
		s.next = p.Seq + 1
	}
	s.pending = s.pending[i:]
	if s.next > from {
		h.send(s, from, offset, text.String(), now)
	}
}

// fill sends from the database what s lacks: the message's content past s.offset, up to its
// last chunk (also once the stream has ended, unless the message was edited since). It reports
// whether s should be kept: false once the stream has ended, or when the message is gone or
// edited or the read failed. Caller holds s.mu.
func (h *deltaHub) fill(s *streamDeltas, now time.Time) bool {
	h.b.metrics.deltaFills.Add(1)
	st, err := h.b.streamText(s.messageID)
	if err != nil {
		if !isNotFound(err) && !h.b.closing.Load() {
			h.b.log.Warn("realtime: read a streamed message", "err", err.Error(), "message", s.messageID)
		}
		return false
	}
	runes := int64(utf8.RuneCountInString(st.Content))
	if st.Edited || st.Seq < s.next || runes < s.offset {
		return false // not the chunks sent so far and more
	}
	from, offset := s.next, s.offset
	s.next, s.offset = st.Seq+1, runes
	h.send(s, from, offset, dropRunes(st.Content, offset), now)
	return !st.Ended
}

// send emits one message_delta to the sockets of s's page here. Caller holds s.mu.
func (h *deltaHub) send(s *streamDeltas, from, offset int64, text string, now time.Time) {
	_ = h.b.ns.To(modules.PageRoom(s.pageID).String()).Emit("message_delta", map[string]any{"pageId": s.pageID, "messageId": s.messageID,
		"fromSeq": from, "seq": s.next - 1, "offset": offset, "text": text})
	h.b.metrics.deltas.Add(1)
	s.sentAt = now
}

// share hands s's own pieces to the other processes, joined into runs that fit a bus message; a
// chunk too large for one goes without its text. Caller holds s.mu.
func (h *deltaHub) share(s *streamDeltas) {
	own := s.own
	s.own = nil
	k := h.b.cluster
	if k == nil || len(own) == 0 {
		return
	}
	const room = MaxBusMessage - 500 // for the ids and field names around the text
	send := func(run piece) { k.enqueue(busMsg{Kind: "delta", Delta: &run}) }
	var run piece
	size := 0
	for i, p := range own {
		n := len(mustJSON(p.Text))
		if i > 0 && p.FromSeq == run.Seq+1 && !run.Omitted && size+n <= room {
			run.Seq, run.Text, size = p.Seq, run.Text+p.Text, size+n
			continue
		}
		if i > 0 {
			send(run)
		}
		run, size = p, n
		if n > room {
			run.Text, run.Omitted = "", true
		}
	}
	send(run)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// dropRunes returns s without its first n code points.
func dropRunes(s string, n int64) string {
	for i := range s {
		if n == 0 {
			return s[i:]
		}
		n--
	}
	return ""
}

package main

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"time"
)

// markerPrefix starts the marker each message's content carries: "~lt~<seq>~<sendNanos>~".
// It survives JSON encoding unchanged, so the receiver finds it in the raw frame without
// decoding it, at the same cost for pagespace's and the baseline's frames.
const markerPrefix = "~lt~"

// marker returns the content of message seq sent at sent (nanoseconds since the run's start).
func marker(seq int, sent int64) string {
	return fmt.Sprintf("%s%d~%d~", markerPrefix, seq, sent)
}

// parseMarker finds the first marker in frame.
func parseMarker(frame []byte) (seq int, sent int64, ok bool) {
	i := bytes.Index(frame, []byte(markerPrefix))
	if i < 0 {
		return 0, 0, false
	}
	rest := frame[i+len(markerPrefix):]
	a, rest, ok := parseUint(rest)
	if !ok {
		return 0, 0, false
	}
	b, _, ok := parseUint(rest)
	if !ok {
		return 0, 0, false
	}
	return int(a), int64(b), true
}

// parseUint reads decimal digits up to a '~' and returns what follows it.
func parseUint(b []byte) (uint64, []byte, bool) {
	var n uint64
	for i, c := range b {
		switch {
		case c >= '0' && c <= '9' && i < 19:
			n = n*10 + uint64(c-'0')
		case c == '~' && i > 0:
			return n, b[i+1:], true
		default:
			return 0, nil, false
		}
	}
	return 0, nil, false
}

// socketLog is what one socket received. Only that socket's reader goroutine writes it.
type socketLog struct {
	counts  []uint16 // deliveries per sequence number
	latency []int64  // nanoseconds from send to receipt, first delivery of each sequence only
	bySeq   []int64  // the same, by sequence number (0: not delivered)
	sentAt  []int64  // when each sequence was sent (its marker's time), once delivered
	stray   int      // markers with a sequence number outside the run
}

func newSocketLog(messages int) *socketLog {
	return &socketLog{counts: make([]uint16, messages), latency: make([]int64, 0, messages), bySeq: make([]int64, messages), sentAt: make([]int64, messages)}
}

// record notes one delivery of seq sent at sent, received at recv; it reports whether it was
// the first delivery of seq on this socket.
func (l *socketLog) record(seq int, sent, recv int64) bool {
	if seq < 0 || seq >= len(l.counts) {
		l.stray++
		return false
	}
	l.counts[seq]++
	if l.counts[seq] > 1 {
		return false
	}
	l.latency = append(l.latency, recv-sent)
	l.bySeq[seq] = max(recv-sent, 1)
	l.sentAt[seq] = sent
	return true
}

// tally is the accounting of a run over every socket.
type tally struct {
	Expected      int // deliveries expected: sockets × messages the server accepted
	Delivered     int // first deliveries of accepted messages
	Lost          int // (socket, accepted message) pairs never delivered
	Duplicated    int // deliveries beyond the first, per socket and message
	Unexpected    int // deliveries of messages whose POST failed, plus stray markers
	SocketsLosing int // sockets that missed at least one accepted message
	Latency       latencySummary
	// Per message (accepted and delivered at least once): its first delivery's latency, its
	// last one's, and the time between them (how long its fan-out took).
	First, Last, Spread latencySummary
	Slowest             []slowMessage // the messages whose last delivery came latest, slowest first
}

// slowMessage is a message, when it was sent and how long its last delivery took.
type slowMessage struct {
	Seq        int
	Sent, Last int64
}

// slowestShown is how many of the slowest messages a report names.
const slowestShown = 5

// account tallies logs against accepted (accepted[seq] is true when the POST of seq succeeded).
func account(accepted []bool, logs []*socketLog) tally {
	var t tally
	var all []int64
	for _, l := range logs {
		losing := false
		for seq, ok := range accepted {
			n := 0
			if seq < len(l.counts) {
				n = int(l.counts[seq])
			}
			if n > 1 {
				t.Duplicated += n - 1
			}
			if !ok {
				if n > 0 {
					t.Unexpected++
				}
				continue
			}
			t.Expected++
			if n == 0 {
				t.Lost++
				losing = true
			} else {
				t.Delivered++
			}
		}
		t.Unexpected += l.stray
		if losing {
			t.SocketsLosing++
		}
		all = append(all, l.latency...)
	}
	t.Latency = summarize(all)
	var first, last, spread []int64
	for seq, ok := range accepted {
		lo, hi := int64(0), int64(0)
		for _, l := range logs {
			if seq >= len(l.bySeq) || l.bySeq[seq] == 0 {
				continue
			}
			if v := l.bySeq[seq]; lo == 0 || v < lo {
				lo = v
			}
			hi = max(hi, l.bySeq[seq])
		}
		if ok && lo > 0 {
			first, last, spread = append(first, lo), append(last, hi), append(spread, hi-lo)
			t.Slowest = append(t.Slowest, slowMessage{Seq: seq, Sent: sentOf(logs, seq), Last: hi})
		}
	}
	slices.SortFunc(t.Slowest, func(a, b slowMessage) int { return cmp.Compare(b.Last, a.Last) })
	t.Slowest = t.Slowest[:min(len(t.Slowest), slowestShown)]
	t.First, t.Last, t.Spread = summarize(first), summarize(last), summarize(spread)
	return t
}

// sentOf is when seq was sent, from the first log that received it.
func sentOf(logs []*socketLog, seq int) int64 {
	for _, l := range logs {
		if seq < len(l.bySeq) && l.bySeq[seq] != 0 {
			return l.sentAt[seq]
		}
	}
	return 0
}

// latencySummary is a distribution of delivery latencies.
type latencySummary struct {
	Count              int
	P50, P90, P99, Max time.Duration
	Mean               time.Duration
}

// summarize sorts samples (nanoseconds) in place and summarizes them.
func summarize(samples []int64) latencySummary {
	if len(samples) == 0 {
		return latencySummary{}
	}
	slices.Sort(samples)
	var sum float64
	for _, s := range samples {
		sum += float64(s)
	}
	return latencySummary{
		Count: len(samples),
		P50:   time.Duration(percentile(samples, 50)),
		P90:   time.Duration(percentile(samples, 90)),
		P99:   time.Duration(percentile(samples, 99)),
		Max:   time.Duration(samples[len(samples)-1]),
		Mean:  time.Duration(sum / float64(len(samples))),
	}
}

// percentile is the nearest-rank percentile p (0 < p ≤ 100) of sorted samples: the smallest
// sample with at least p% of the samples at or below it.
func percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100 + 0.999999999)
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

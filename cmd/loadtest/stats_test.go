package main

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1)
	}
	for _, tc := range []struct {
		name   string
		sorted []int64
		p      float64
		want   int64
	}{
		{"empty", nil, 50, 0},
		{"one sample", []int64{7}, 99, 7},
		{"p50 of 1..100", hundred, 50, 50},
		{"p99 of 1..100", hundred, 99, 99},
		{"p100 of 1..100", hundred, 100, 100},
		{"p1 of 1..100", hundred, 1, 1},
		{"p99 of 10 samples is the max", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 99, 10},
		{"p50 of 4 samples", []int64{10, 20, 30, 40}, 50, 20},
		{"p90 of 1000 samples", seq(1000), 90, 900},
	} {
		if got := percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: percentile(p%v) = %d, want %d", tc.name, tc.p, got, tc.want)
		}
	}
}

func seq(n int) []int64 {
	s := make([]int64, n)
	for i := range s {
		s[i] = int64(i + 1)
	}
	return s
}

func TestSummarizeSortsAndSummarizes(t *testing.T) {
	got := summarize([]int64{int64(5 * time.Millisecond), int64(time.Millisecond), int64(3 * time.Millisecond)})
	want := latencySummary{Count: 3, P50: 3 * time.Millisecond, P90: 5 * time.Millisecond, P99: 5 * time.Millisecond, Max: 5 * time.Millisecond, Mean: 3 * time.Millisecond}
	if got != want {
		t.Fatalf("summarize = %+v, want %+v", got, want)
	}
	if (summarize(nil) != latencySummary{}) {
		t.Fatal("summarize(nil) is not zero")
	}
}

func TestMarkerRoundTrip(t *testing.T) {
	frame := []byte(`42["new_message",{"message":{"content":"` + marker(42, 1234567890123) + `","id":"x"},"content":"` + marker(7, 1) + `"},"17"]`)
	seq, sent, ok := parseMarker(frame)
	if !ok || seq != 42 || sent != 1234567890123 {
		t.Fatalf("parseMarker = %d, %d, %v; want the first marker 42, 1234567890123", seq, sent, ok)
	}
	for _, bad := range []string{``, `{"content":"hello"}`, `~lt~~1~`, `~lt~12~`, `~lt~12~34`, `~lt~1x~2~`, `~lt~99999999999999999999~1~`} {
		if _, _, ok := parseMarker([]byte(bad)); ok {
			t.Errorf("parseMarker(%q) ok, want not found", bad)
		}
	}
}

func TestAccountLossAndDuplicates(t *testing.T) {
	const messages = 4
	accepted := []bool{true, true, false, true} // the POST of message 2 failed
	deliver := func(seqs ...int) *socketLog {
		l := newSocketLog(messages)
		for i, s := range seqs {
			l.record(s, 0, int64(i+1))
		}
		return l
	}
	logs := []*socketLog{
		deliver(0, 1, 3),       // perfect
		deliver(0, 1, 1, 3, 3), // 1 and 3 twice
		deliver(0, 3),          // lost 1
		deliver(2, 0, 1, 3, 9), // a failed POST's message delivered anyway, and a stray sequence
	}
	got := account(accepted, logs)
	if got.Expected != 12 || got.Delivered != 11 || got.Lost != 1 || got.SocketsLosing != 1 {
		t.Errorf("expected/delivered/lost/losing = %d/%d/%d/%d, want 12/11/1/1", got.Expected, got.Delivered, got.Lost, got.SocketsLosing)
	}
	if got.Duplicated != 2 {
		t.Errorf("Duplicated = %d, want 2", got.Duplicated)
	}
	if got.Unexpected != 2 {
		t.Errorf("Unexpected = %d, want 2 (message 2 once, stray 9 once)", got.Unexpected)
	}
	// Latencies count first deliveries only: 3 + 3 + 2 + 4 (message 2 counts: it arrived).
	if got.Latency.Count != 12 {
		t.Errorf("Latency.Count = %d, want 12", got.Latency.Count)
	}
	// Per accepted message: 0 arrives at 1,1,1,2; 1 at 2,2,3; 3 at 3,4,2,4.
	if got.First.Count != 3 || got.First.Max != 2 || got.Last.Max != 4 || got.Last.P50 != 3 || got.Spread.Max != 2 || got.Spread.P50 != 1 {
		t.Errorf("per message first %+v last %+v spread %+v", got.First, got.Last, got.Spread)
	}
	// Slowest first: 3 (last at 4), 1 (3), 0 (2); the failed POST's message is not named.
	if len(got.Slowest) != 3 || got.Slowest[0].Seq != 3 || got.Slowest[0].Last != 4 || got.Slowest[1].Seq != 1 || got.Slowest[2].Seq != 0 {
		t.Errorf("slowest %+v", got.Slowest)
	}
}

func TestRecordIgnoresDuplicateLatency(t *testing.T) {
	l := newSocketLog(2)
	if !l.record(1, 10, 15) {
		t.Fatal("first delivery not reported as first")
	}
	if l.record(1, 10, 99) {
		t.Fatal("second delivery reported as first")
	}
	if l.record(-1, 0, 0) || l.record(2, 0, 0) {
		t.Fatal("out-of-range sequence reported as first")
	}
	if len(l.latency) != 1 || l.latency[0] != 5 || l.stray != 2 {
		t.Fatalf("latency %v stray %d, want [5] and 2", l.latency, l.stray)
	}
}

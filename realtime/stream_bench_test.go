package realtime_test

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/app/pagespacetest"
	"github.com/pagespace/pagespace/internal/benchstat"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// BenchmarkAgentStream: one agent streams 50 chunks a second over REST into a channel watched
// by N sockets (PAGESPACE_BENCH_VIEWERS, default 1,000; 20 with -short) for
// PAGESPACE_BENCH_SECONDS (default 10; 2 with -short). The server runs as its own process (built
// from this tree, on a fresh database of PAGESPACE_TEST_DB), so that its CPU time is its own. It
// reports chunk-to-viewer latency (from sending a chunk to a viewer receiving the delta that
// holds it) p50/p99/max, the agent's round trip per chunk (post, p50/p99), the deltas each viewer
// received a second, and the server's CPU time per second of streaming. Every viewer must receive every chunk, in order. One iteration is
// one whole run:
//
//	PAGESPACE_TEST_DB=postgres go test -run '^$' -bench AgentStream -benchtime 1x ./realtime/
func BenchmarkAgentStream(b *testing.B) {
	viewers, seconds := 1000, 10
	if testing.Short() {
		viewers, seconds = 20, 2
	}
	viewers = envInt(b, "PAGESPACE_BENCH_VIEWERS", viewers)
	seconds = envInt(b, "PAGESPACE_BENCH_SECONDS", seconds)
	for b.Loop() {
		agentStream(b, viewers, 50, time.Duration(seconds)*time.Second)
	}
}

func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q", name, s)
	}
	return n
}

// socketsPerUser is how many viewer sockets share one user (a user may hold 100 here).
const socketsPerUser = 100

func agentStream(b *testing.B, viewers, rate int, duration time.Duration) {
	dbURL := ""
	if apptest.Dialect() == "postgres" {
		dbURL = apptest.NewPostgresDB(b)
	}
	base, proc := serverProcess(b, dbURL, "bench-secret-bench-secret-bench-secret-01",
		"AUTH_RATE_LIMIT=0", "MEMBER_EMAIL_RATE_LIMIT=0", "WS_MAX_CONNECTIONS_PER_USER="+strconv.Itoa(socketsPerUser),
		"STREAM_CHUNK_RATE="+strconv.Itoa(2*rate))
	srv := &pagespacetest.Server{T: b, URL: base, Client: &http.Client{Timeout: 30 * time.Second}}
	owner := srv.Signup("Owner")
	drive := srv.CreateDrive(owner, "Bench")
	page := srv.CreatePage(owner, drive, "CHANNEL", "answers", "")
	agent := srv.Do("POST", "/api/drives/"+drive+"/agents", owner.Token, map[string]any{"name": "Agent", "role": "MEMBER"}).Expect(201).Map()
	key := agent["token"].(string)

	watchers := make([]*watcher, viewers)
	var u pagespacetest.User
	for i := range watchers {
		if i%socketsPerUser == 0 {
			u = srv.Signup(fmt.Sprintf("Viewer %d", i/socketsPerUser))
			srv.AddMember(owner, drive, u, "VIEWER")
		}
		watchers[i] = watch(b, base, u, page)
	}

	id := srv.Do("POST", "/api/pages/"+page+"/messages/streams", key, nil).Expect(201).ID()
	var wg sync.WaitGroup
	for _, w := range watchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.follow(id)
		}()
	}
	chunks := int(duration.Seconds() * float64(rate))
	sent := make([]time.Time, chunks+1)
	answered := make([]time.Duration, 0, chunks) // the agent's round trips
	cpu0, began := cpuTime(b, proc.Pid), time.Now()
	tick := time.NewTicker(time.Second / time.Duration(rate))
	for i := 1; i <= chunks; i++ {
		<-tick.C // the agent's pace
		sent[i] = time.Now()
		srv.Do("POST", "/api/pages/"+page+"/messages/"+id+"/chunks", key, map[string]any{"seq": i, "text": fmt.Sprintf("token%d ", i)}).Expect(200)
		answered = append(answered, time.Since(sent[i]))
	}
	tick.Stop()
	srv.Do("POST", "/api/pages/"+page+"/messages/"+id+"/complete", key, map[string]any{"seq": chunks}).Expect(200)
	wg.Wait()
	elapsed, cpu := time.Since(began), cpuTime(b, proc.Pid)-cpu0
	b.StopTimer()

	var lat []time.Duration
	deltas := 0
	for i, w := range watchers {
		if w.err != nil || w.next != int64(chunks)+1 {
			b.Fatalf("viewer %d: got chunks up to %d of %d (%v)", i, w.next-1, chunks, w.err)
		}
		deltas += len(w.got)
		for _, d := range w.got {
			for seq := d.from; seq <= d.seq; seq++ {
				lat = append(lat, d.at.Sub(sent[seq]))
			}
		}
	}
	slices.Sort(lat)
	slices.Sort(answered)
	b.ReportMetric(float64(viewers), "viewers")
	b.ReportMetric(float64(chunks)/elapsed.Seconds(), "chunks/s")
	b.ReportMetric(float64(deltas)/float64(viewers)/elapsed.Seconds(), "deltas/s/viewer")
	b.ReportMetric(benchstat.Millis(benchstat.Quantile(lat, 0.5)), "chunk-p50-ms")
	b.ReportMetric(benchstat.Millis(benchstat.Quantile(lat, 0.99)), "chunk-p99-ms")
	b.ReportMetric(benchstat.Millis(lat[len(lat)-1]), "chunk-max-ms")
	b.ReportMetric(benchstat.Millis(benchstat.Quantile(answered, 0.5)), "post-p50-ms")
	b.ReportMetric(benchstat.Millis(benchstat.Quantile(answered, 0.99)), "post-p99-ms")
	b.ReportMetric(100*cpu.Seconds()/elapsed.Seconds(), "server-cpu-%")
	b.Logf("%s: %d chunks in %v to %d viewers; %d deltas in all; server CPU %v", apptest.Dialect(), chunks,
		elapsed.Round(time.Millisecond), viewers, deltas, cpu.Round(time.Millisecond))
	b.StartTimer()
}

// watcher is one viewer socket of the benchmark: the deltas it received, with when.
type watcher struct {
	c    *sioclient.Client
	next int64 // the seq it expects next
	got  []received
	err  error
}

type received struct {
	from, seq int64
	at        time.Time
}

// watch opens a socket for u (without the tests' schema checks, which would cost the clients
// more CPU than the server spends) and joins the page.
func watch(b *testing.B, base string, u pagespacetest.User, page string) *watcher {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := sioclient.DialOptions(ctx, base, map[string]any{"token": u.Token}, sioclient.Options{})
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	b.Cleanup(func() { c.Close() })
	var ack map[string]any
	if err := c.Call(ctx, &ack, "join_page", page); err != nil || ack["ok"] != true {
		b.Fatalf("join_page: %v %v", ack, err)
	}
	return &watcher{c: c, next: 1}
}

// follow records the deltas of message id until message_updated ends it (or a deadline).
func (w *watcher) follow(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for {
		ev, err := w.c.Next(ctx)
		if err != nil {
			w.err = err
			return
		}
		switch ev.Name {
		case "message_delta":
			var d delta
			if w.err = ev.Decode(0, &d); w.err != nil {
				return
			}
			if d.MessageID != id || d.FromSeq != w.next {
				w.err = fmt.Errorf("delta %d..%d after %d", d.FromSeq, d.Seq, w.next-1)
				return
			}
			w.got = append(w.got, received{d.FromSeq, d.Seq, time.Now()})
			w.next = d.Seq + 1
		case "message_updated":
			if strings.Contains(string(ev.Args[0]), `"status":"complete"`) {
				return
			}
		}
	}
}

// cpuTime is the user and system CPU time of process pid so far (Linux: /proc/pid/stat).
func cpuTime(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name (which may hold spaces, in parentheses): utime and stime
	// are the 12th and 13th of them, in clock ticks (100 a second on Linux).
	fields := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+1:]))
	ticks := 0.0
	for _, f := range fields[11:13] {
		n, err := strconv.ParseFloat(f, 64)
		if err != nil {
			b.Fatal(err)
		}
		ticks += n
	}
	return time.Duration(math.Round(ticks * float64(time.Second) / 100))
}

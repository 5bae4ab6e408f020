package docclient_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/benchstat"
	"github.com/pagespace/pagespace/internal/docclient"
	"github.com/pagespace/pagespace/internal/traces"
	"github.com/pagespace/pagespace/pages/ot"
)

// The end-to-end benchmarks of live co-editing (docs/performance.md, "Live co-editing"). Each
// starts the whole server on a fresh database (PAGESPACE_TEST_DB picks it) and drives it through
// real sockets; one iteration is one whole run, so run them with -benchtime 1x:
//
//	PAGESPACE_TEST_DB=postgres go test -run '^$' -bench . -benchtime 1x ./internal/docclient/

// dbSize is the database's size in bytes (PostgreSQL: pg_database_size; SQLite: its pages, the
// write-ahead log's included).
func dbSize(tb testing.TB, env *apptest.Env) int64 {
	tb.Helper()
	db := env.App.DB()
	var size int64
	if apptest.Dialect() == "postgres" {
		if err := db.Raw("SELECT pg_database_size(current_database())").Scan(&size).Error; err != nil {
			tb.Fatal(err)
		}
		return size
	}
	var pages, pageSize int64
	db.Raw("PRAGMA page_count").Scan(&pages)
	db.Raw("PRAGMA page_size").Scan(&pageSize)
	return pages * pageSize
}

// BenchmarkAutomergePaper replays automerge-paper (259,778 edits by one writer, ending at
// 104,852 code points) through one docclient on one socket, typing each edit as soon as the last
// was applied locally. The client keeps one op in flight (ot.js's client), so the edits typed
// while an op awaits its ack are composed into the next op: the metrics say how many ops the
// server received (ops) against the trace's edits. It reports the whole time (s), edits and ops a
// second, op-to-ack p50/p99 (from sending an op to applying its ack), the database's growth per
// op, and the time to open the finished document on a new socket.
//
// PAGESPACE_BENCH_EDITS=n replays the first n edits only; PAGESPACE_BENCH_SYNC=m waits for the
// ack of each of the last m edits replayed before typing the next (one op per edit: the server's
// cost per op, on a document of the size the trace has there); the ack latencies and ops/s are
// then those of that phase.
func BenchmarkAutomergePaper(b *testing.B) {
	tr, err := traces.Load("automerge-paper")
	if err != nil {
		b.Fatal(err)
	}
	ops := make([]ot.Op, len(tr.Txns))
	n := len([]rune(tr.StartContent))
	for i, tx := range tr.Txns {
		if ops[i], err = tx.Op(n); err != nil {
			b.Fatal(err)
		}
		n = ops[i].TargetLen()
	}
	want := tr.EndContent
	if s := os.Getenv("PAGESPACE_BENCH_EDITS"); s != "" {
		k, err := strconv.Atoi(s)
		if err != nil || k <= 0 {
			b.Fatalf("PAGESPACE_BENCH_EDITS=%q", s)
		}
		ops = ops[:min(k, len(ops))]
		want = ""
	}
	oneByOne := 0
	if s := os.Getenv("PAGESPACE_BENCH_SYNC"); s != "" {
		if oneByOne, err = strconv.Atoi(s); err != nil || oneByOne < 0 {
			b.Fatalf("PAGESPACE_BENCH_SYNC=%q", s)
		}
	}
	for b.Loop() {
		replayPaper(b, tr.StartContent, ops, want, len(ops)-min(oneByOne, len(ops)))
	}
}

// replayPaper types ops as fast as the client takes them, those from syncFrom on one at a time.
func replayPaper(b *testing.B, start string, ops []ot.Op, want string, syncFrom int) {
	env := apptest.Start(b, fast)
	owner := env.Signup("Paper Writer")
	drive := env.CreateDrive(owner, "Bench")
	page := env.Do("POST", "/api/drives/"+drive+"/pages", owner.Token,
		map[string]any{"title": "paper", "type": "DOCUMENT", "content": start}).Expect(201).ID()
	c := open(b, env, owner, page, "paper")
	ctx := ctxT(b, 30*time.Minute)
	before := dbSize(b, env)
	began := time.Now()
	phase := began // of the acks measured
	for i, op := range ops {
		if i == syncFrom {
			if err := c.WaitSynced(ctx); err != nil {
				b.Fatal(err)
			}
			phase = time.Now()
		}
		if err := c.Edit(op); err != nil {
			b.Fatalf("edit %d: %v", i, err)
		}
		if i >= syncFrom {
			if err := c.WaitSynced(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := c.WaitSynced(ctx); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(began)
	b.StopTimer()
	grown := dbSize(b, env) - before
	acks := c.Acks()
	var lat []time.Duration
	for _, a := range acks {
		if !a.Sent.Before(phase) {
			lat = append(lat, a.Acked.Sub(a.Sent))
		}
	}
	slices.Sort(lat)
	opened := time.Now()
	version, content := serverDoc(b, env, owner, page)
	openTime := time.Since(opened)
	if want != "" && content != want {
		b.Fatalf("server text: %d code points, want %d", len([]rune(content)), len([]rune(want)))
	}
	if c.Text() != content || version != int64(len(acks)) {
		b.Fatalf("client at version %d (%d acks), server at %d", c.Version(), len(acks), version)
	}
	b.ReportMetric(elapsed.Seconds(), "s")
	b.ReportMetric(float64(len(ops)), "edits")
	b.ReportMetric(float64(len(acks)), "ops")
	b.ReportMetric(float64(len(ops))/elapsed.Seconds(), "edits/s")
	b.ReportMetric(float64(len(acks))/elapsed.Seconds(), "ops/s")
	if syncFrom < len(ops) {
		b.ReportMetric(float64(len(lat))/time.Since(phase).Seconds(), "sync-ops/s")
	}
	b.ReportMetric(benchstat.Millis(benchstat.Quantile(lat, 0.5)), "ack-p50-ms")
	b.ReportMetric(benchstat.Millis(benchstat.Quantile(lat, 0.99)), "ack-p99-ms")
	b.ReportMetric(float64(grown)/float64(len(acks)), "dbB/op")
	b.ReportMetric(benchstat.Millis(openTime), "open-ms")
	b.Logf("%s: %d edits became %d ops in %v; %d code points; database grew %d bytes",
		apptest.Dialect(), len(ops), len(acks), elapsed.Round(time.Millisecond), len([]rune(content)), grown)
	b.StartTimer()
}

// BenchmarkTwentyEditors has 20 editors (20 users, one socket each) type into one document, each
// one random edit (with emoji) every 100 ms, starting at random moments, for
// PAGESPACE_BENCH_SECONDS (default 10) seconds. It reports the latency from an edit to its
// application by each other editor (op-to-remote-apply, p50/p99; an op that composes several
// edits counts from its first), then checks that all converged.
func BenchmarkTwentyEditors(b *testing.B) {
	seconds := 10
	if s := os.Getenv("PAGESPACE_BENCH_SECONDS"); s != "" {
		var err error
		if seconds, err = strconv.Atoi(s); err != nil || seconds <= 0 {
			b.Fatalf("PAGESPACE_BENCH_SECONDS=%q", s)
		}
	}
	for b.Loop() {
		twentyEditors(b, 20, 100*time.Millisecond, time.Duration(seconds)*time.Second)
	}
}

func twentyEditors(b *testing.B, editors int, every, duration time.Duration) {
	env := apptest.Start(b, func(c *app.Config) { c.Doc.KeepOps = 1 << 20 })
	owner := env.Signup("Owner")
	drive := env.CreateDrive(owner, "Bench")
	page := env.CreatePage(owner, drive, "DOCUMENT", "Together", "")
	clients := make([]*docclient.Client, editors)
	for i := range clients {
		u := owner
		if i > 0 {
			u = env.Signup(fmt.Sprintf("Editor %d", i))
			env.AddMember(owner, drive, u, "MEMBER")
		}
		clients[i] = open(b, env, u, page, "editor-"+strconv.Itoa(i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, editors)
	began := time.Now()
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			next := began.Add(time.Duration(rng.Int64N(int64(every))))
			for next.Before(began.Add(duration)) {
				time.Sleep(time.Until(next)) // the typing pace
				if err := c.EditWith(func(text string) ot.Op { return randomEdit(rng, text) }); err != nil {
					errs <- err
					return
				}
				next = next.Add(every)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	text := converge(b, env, owner, page, clients...)
	b.StopTimer()
	edited := map[string]map[int64]time.Time{} // clientId → seq → first edit
	ops := 0
	for i, c := range clients {
		m := map[int64]time.Time{}
		for _, a := range c.Acks() {
			m[a.Seq] = a.Edited
			ops++
		}
		edited["editor-"+strconv.Itoa(i)] = m
	}
	var lat []time.Duration
	for _, c := range clients {
		for _, r := range c.Remotes() {
			lat = append(lat, r.Applied.Sub(edited[r.ClientID][r.Seq]))
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(ops), "ops")
	b.ReportMetric(float64(len(lat)), "remote-applies")
	b.ReportMetric(benchstat.Millis(benchstat.Quantile(lat, 0.5)), "remote-p50-ms")
	b.ReportMetric(benchstat.Millis(benchstat.Quantile(lat, 0.99)), "remote-p99-ms")
	b.ReportMetric(benchstat.Millis(lat[len(lat)-1]), "remote-max-ms")
	b.Logf("%s: %d editors, %d ops in %v, %d remote applies, %d code points at the end", apptest.Dialect(),
		editors, ops, duration, len(lat), len([]rune(text)))
	b.StartTimer()
}

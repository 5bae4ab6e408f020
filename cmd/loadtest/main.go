package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

type options struct {
	n           int
	rate        float64
	duration    time.Duration
	idle        bool
	baseline    bool
	baseMelody  bool // the baseline, its WebSockets served through melody
	db          string
	pgAdmin     string
	users       int
	drain       time.Duration
	settle      time.Duration
	timeout     time.Duration
	dialers     int
	serverCPU   int
	clientCPU   int
	pin         bool
	repo        string
	pprofAddr   string
	keepTmp     bool
	serveBase   bool
	serveAddr   string
	serveDB     string
	postWorkers int
	baseQueue   int
	basePad     int
	procs       int
	serverEnv   []string // added to the server processes' environment
}

// serverCPUOrNone is the CPU the servers are pinned to, or -1 when they are not pinned.
func (o options) serverCPUOrNone() int {
	if o.pin {
		return o.serverCPU
	}
	return -1
}

const pinnedEnv = "PAGESPACE_LOADTEST_PINNED"

func main() {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ExitOnError)
	fs.IntVar(&o.n, "n", 1000, "sockets in the page room")
	fs.Float64Var(&o.rate, "rate", 20, "messages posted per second")
	fs.DurationVar(&o.duration, "duration", 30*time.Second, "how long messages are posted")
	fs.BoolVar(&o.idle, "idle", false, "connect the sockets, measure memory, post nothing")
	fs.IntVar(&o.procs, "procs", 1, "pagespace processes on one PostgreSQL database; with 2 or more, posts go through the first and the sockets are spread over the others")
	fs.BoolVar(&o.baseline, "baseline", false, "measure the minimal Go broadcaster instead of pagespace")
	fs.BoolVar(&o.baseMelody, "baseline-melody", false, "measure the baseline with its WebSockets served through melody (pagespace's session layer) instead of plain gorilla connections")
	fs.IntVar(&o.basePad, "baseline-pad", 0, "pad each message frame of the baseline with this many bytes (an extra \"pad\" field), to compare at pagespace's frame size")
	fs.IntVar(&o.baseQueue, "baseline-queue", 256, "frames buffered per socket in the baseline, or in melody's session buffer with -baseline-melody (a full buffer closes the socket)")
	fs.StringVar(&o.db, "db", "postgres", "postgres (a fresh database, created and dropped) or sqlite")
	fs.StringVar(&o.pgAdmin, "pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL maintenance database URL (with -db=postgres)")
	fs.IntVar(&o.users, "users", 0, "distinct users owning the sockets (0: ceil(n/100), sockets spread evenly)")
	fs.DurationVar(&o.drain, "drain", 10*time.Second, "longest wait for straggling deliveries after the last post")
	fs.DurationVar(&o.settle, "settle", 3*time.Second, "wait after connecting before measuring idle memory")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "hard limit on the whole run")
	fs.IntVar(&o.dialers, "dialers", 32, "sockets connected concurrently during setup")
	fs.IntVar(&o.postWorkers, "posters", 64, "most POSTs in flight at once")
	fs.IntVar(&o.serverCPU, "server-cpu", 0, "CPU the server is pinned to (taskset)")
	fs.IntVar(&o.clientCPU, "client-cpu", 1, "CPU this load generator is pinned to")
	fs.BoolVar(&o.pin, "pin", true, "pin server and load generator to one CPU each, GOMAXPROCS=1")
	fs.StringVar(&o.repo, "repo", "", "pagespace repository root (default: found from the working directory)")
	fs.Func("server-env", "`KEY=VALUE` added to the server's environment (repeatable), e.g. GOMEMLIMIT=200MiB or GODEBUG=memprofilerate=1", func(v string) error {
		if !strings.Contains(v, "=") {
			return errors.New("want KEY=VALUE")
		}
		o.serverEnv = append(o.serverEnv, v)
		return nil
	})
	fs.StringVar(&o.pprofAddr, "pprof", "", "pass PPROF_ADDR to the server (pagespace or the baseline; e.g. 127.0.0.1:6060) to profile it during the run")
	fs.BoolVar(&o.keepTmp, "keep", false, "keep the temporary directory (server log, data)")
	fs.BoolVar(&o.serveBase, "serve-baseline", false, "internal: run the baseline server")
	fs.StringVar(&o.serveAddr, "addr", "127.0.0.1:0", "internal: baseline listen address")
	fs.StringVar(&o.serveDB, "database", "", "internal: baseline database (postgres URL or sqlite:<path>)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `loadtest: end-to-end load of pagespace's realtime delivery, or of a minimal baseline.

  loadtest -n 1000 -rate 20 -duration 30s [-baseline | -baseline-melody] [-db postgres|sqlite]
  loadtest -n 1000 -rate 20 -duration 30s -procs 3          # cross-process delivery
  loadtest -idle -n 10000 [-baseline | -baseline-melody]

-baseline is a minimal server doing the least a real server does for the same work; with
-baseline-melody its WebSockets go through melody, pagespace's session layer, to show melody's
share. Each run reports delivery latency, losses, server CPU and RSS, and the server's CPU time
per socket to connect and join ("connect+join CPU", connect_cpu_us in the RESULT line).

It builds and starts the server itself (pinned to -server-cpu), runs the clients pinned to
-client-cpu, and stops everything it started. Flags:
`)
		fs.PrintDefaults()
	}
	_ = fs.Parse(os.Args[1:])

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	o.baseline = o.baseline || o.baseMelody
	if o.serveBase {
		if err := serveBaseline(ctx, o.serveAddr, o.serveDB, o.baseQueue, o.basePad, o.baseMelody); err != nil {
			fmt.Fprintln(os.Stderr, "baseline:", err)
			os.Exit(1)
		}
		return
	}
	if _, err := raiseNoFile(uint64(2*o.n + 4096)); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest: raise open-file limit:", err)
	}
	if o.pin && os.Getenv(pinnedEnv) == "" {
		reexecPinned(o.clientCPU) // returns only when taskset is missing
	}
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// reexecPinned replaces this process by itself under taskset on cpu with GOMAXPROCS=1.
func reexecPinned(cpu int) {
	taskset, err := exec.LookPath("taskset")
	exe, err2 := os.Executable()
	if err != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "loadtest: taskset not found: running unpinned with GOMAXPROCS=1")
		runtime.GOMAXPROCS(1)
		return
	}
	argv := append([]string{"taskset", "-c", strconv.Itoa(cpu), exe}, os.Args[1:]...)
	env := append(os.Environ(), pinnedEnv+"=1", "GOMAXPROCS=1")
	err = syscall.Exec(taskset, argv, env)
	fmt.Fprintln(os.Stderr, "loadtest: re-exec under taskset:", err)
	os.Exit(1)
}

// result is one run's figures.
type result struct {
	target        string
	procs         int
	sockets       int
	users         int
	setup         time.Duration
	signup        time.Duration
	connect       time.Duration
	quiet         time.Duration // wait for the join storm (viewers_updated) to end
	connectCPU    time.Duration // server CPU from the first dial until the last frame of the join storm
	setupFrames   int64         // frames the sockets received after their joins' acks, until quiet
	rssEmpty      int64
	rssIdle       int64
	rssEnd        int64
	posted        int
	accepted      int
	acceptedSeqs  []bool
	postErrors    int
	postLatency   latencySummary
	sendWindow    time.Duration
	deliverWindow time.Duration
	cpu           time.Duration
	tally         tally
	frames        int64
	frameBytes    int64
	closed        int64
	drainTimedOut bool
	loadStart     string // /proc/loadavg when the run started and ended: other work on the machine
	loadEnd       string
	serverStarted int64 // now() when the (first) server process started
}

func run(ctx context.Context, o options, out io.Writer) error {
	if o.n < 1 || o.rate <= 0 || o.duration <= 0 {
		return errors.New("-n, -rate and -duration must be positive")
	}
	if o.procs < 1 || o.procs > 1 && (o.baseline || o.db != "postgres") {
		return errors.New("-procs: 1, or more with pagespace on PostgreSQL (processes share events through it)")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	tmp, err := os.MkdirTemp("", "pagespace-loadtest-")
	if err != nil {
		return err
	}
	if o.keepTmp {
		fmt.Fprintln(out, "temporary directory:", tmp)
	} else {
		defer os.RemoveAll(tmp)
	}
	var db *pgDatabase
	dbURL := "" // pagespace's database on PostgreSQL; on SQLite the one in its DATA_DIR
	if o.db == "postgres" {
		if db, err = createPGDatabase(ctx, o.pgAdmin); err != nil {
			return err
		}
		defer func() {
			if err := db.drop(); err != nil {
				fmt.Fprintln(os.Stderr, "loadtest: drop database:", err)
			}
		}()
		dbURL = db.URL
	} else if o.db != "sqlite" {
		return fmt.Errorf("-db %q: want postgres or sqlite", o.db)
	}
	messages := 0
	if !o.idle {
		messages = int(o.rate * o.duration.Seconds())
	}
	res := &result{sockets: o.n, procs: o.procs, loadStart: loadavg()}
	rcv := newReceiver(messages)
	t := &target{}
	defer func() {
		rcv.stop()
		t.stop()
	}()
	setupStart := time.Now()
	if err := t.start(ctx, o, tmp, dbURL, rcv, res); err != nil {
		return err
	}
	time.Sleep(time.Second) // let the fresh server settle
	if res.rssEmpty, err = total(t.all(), rss); err != nil {
		return err
	}

	// Connect.
	cpu0, err := total(t.all(), cpuTime)
	if err != nil {
		return err
	}
	connStart := time.Now()
	if err := forEach(ctx, o.n, o.dialers, t.dial); err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	res.connect = time.Since(connStart)
	// Every socket has its join's ack; pagespace still broadcasts viewers_updated to the room
	// after new users' joins (at most one per 250 ms, so the last may come after the last ack).
	// Wait until no frame has arrived for a second since the last ack, at most 60 s. The
	// connect+join CPU counts up to the last frame: it is read again (within 100 ms) after each
	// new frame, so that the quiet second itself is not counted.
	cpu1, err := total(t.all(), cpuTime)
	if err != nil {
		return err
	}
	quietStart := time.Now()
	connected, last := now(), rcv.lastFrame.Load()
	for now()-max(connected, rcv.lastFrame.Load()) < int64(time.Second) && time.Since(quietStart) < 60*time.Second {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
		if f := rcv.lastFrame.Load(); f != last {
			last = f
			if cpu1, err = total(t.all(), cpuTime); err != nil {
				return err
			}
		}
	}
	res.quiet = time.Since(quietStart)
	res.connectCPU = cpu1 - cpu0
	res.setup = time.Since(setupStart)
	if err := sleep(ctx, o.settle); err != nil {
		return err
	}
	if res.rssIdle, err = total(t.all(), rss); err != nil {
		return err
	}
	setupFrames, setupBytes := rcv.frames.Load(), rcv.bytes.Load()
	res.setupFrames = setupFrames

	if !o.idle {
		if err := postAll(ctx, o, messages, t.post, rcv, t.all(), res); err != nil {
			return err
		}
	}
	if res.rssEnd, err = total(t.all(), rss); err != nil {
		return err
	}
	res.frames = rcv.frames.Load() - setupFrames
	res.frameBytes = rcv.bytes.Load() - setupBytes
	res.closed = rcv.closed.Load()
	res.loadEnd = loadavg()
	logs := rcv.stop()
	if !o.idle {
		res.tally = account(res.acceptedSeqs, logs)
	}
	res.serverStarted = t.srv.started
	report(out, o, res)
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// postAll posts messages at o.rate on an open-loop schedule (a slow answer does not delay the
// next post), then waits for every accepted message to reach every socket, at most o.drain.
func postAll(ctx context.Context, o options, messages int, post func(context.Context, string) (int, error), rcv *receiver, srvs []*server, res *result) error {
	res.acceptedSeqs = make([]bool, messages)
	postLat := make([]int64, messages)
	sem := make(chan struct{}, o.postWorkers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	interval := time.Duration(float64(time.Second) / o.rate)
	cpu0, err := total(srvs, cpuTime)
	if err != nil {
		return err
	}
	start := time.Now()
	for seq := range messages {
		if err := sleep(ctx, time.Until(start.Add(time.Duration(seq)*interval))); err != nil {
			return err
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sent := now()
			_, err := post(ctx, marker(seq, sent))
			lat := now() - sent
			mu.Lock()
			defer mu.Unlock()
			postLat[seq] = lat
			if err != nil {
				res.postErrors++
				if res.postErrors <= 3 {
					fmt.Fprintln(os.Stderr, "loadtest: post:", err)
				}
				return
			}
			res.acceptedSeqs[seq] = true
			res.accepted++
		}()
	}
	wg.Wait()
	res.posted = messages
	res.sendWindow = time.Since(start)
	res.postLatency = summarize(postLat)
	want := int64(res.accepted) * int64(o.n)
	drainEnd := time.Now().Add(o.drain)
	for rcv.firsts.Load() < want {
		if time.Now().After(drainEnd) {
			res.drainTimedOut = true
			break
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
	res.deliverWindow = time.Since(start)
	cpu1, err := total(srvs, cpuTime)
	if err != nil {
		return err
	}
	res.cpu = cpu1 - cpu0
	return nil
}

// total sums what read reports for each server process: its resident memory (rss) or the CPU
// time it used (cpuTime).
func total[T int64 | time.Duration](srvs []*server, read func(pid int) (T, error)) (T, error) {
	var sum T
	for _, s := range srvs {
		v, err := read(s.pid())
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// loadavg is the first three fields of /proc/loadavg.
func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func mb(b int64) string { return fmt.Sprintf("%.1f MB", float64(b)/1e6) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

func report(w io.Writer, o options, r *result) {
	fmt.Fprintf(w, "target            %s (db %s)\n", r.target, o.db)
	if r.procs > 1 {
		fmt.Fprintf(w, "processes         %d: posts through the first, sockets on the other %d (every delivery crosses processes); RSS and CPU are their sums\n", r.procs, r.procs-1)
	}
	fmt.Fprintf(w, "machine load      %s at start, %s at end (1, 5, 15 min)\n", r.loadStart, r.loadEnd)
	fmt.Fprintf(w, "sockets           %d", r.sockets)
	if r.users > 0 {
		fmt.Fprintf(w, " (%d users, signup %s each)", r.users, ms(r.signup))
	}
	fmt.Fprintf(w, "\nsetup             connect %s, quiet after %s; %d frames pushed to the sockets after their joins, before the first post\n",
		r.connect.Round(time.Millisecond), r.quiet.Round(time.Millisecond), r.setupFrames)
	connectCPU := float64(r.connectCPU.Microseconds()) / float64(r.sockets)
	fmt.Fprintf(w, "connect+join CPU  %.0f µs per socket (server CPU %s from the first dial to the last frame of the joins; /proc ticks of 10 ms)\n",
		connectCPU, r.connectCPU.Round(10*time.Millisecond))
	perConn := float64(r.rssIdle-r.rssEmpty) / float64(r.sockets)
	fmt.Fprintf(w, "server RSS        empty %s, %d idle sockets %s → %.1f KB per socket; end of run %s\n",
		mb(r.rssEmpty), r.sockets, mb(r.rssIdle), perConn/1e3, mb(r.rssEnd))
	if o.idle {
		fmt.Fprintf(w, "RESULT %s idle n=%d rss_empty=%d rss_idle=%d per_socket_bytes=%.0f connect_cpu_us=%.0f\n", r.target, r.sockets, r.rssEmpty, r.rssIdle, perConn, connectCPU)
		return
	}
	t := r.tally
	fmt.Fprintf(w, "posts             %d at %.0f/s over %s: %d accepted, %d failed; POST round trip p50 %s p99 %s max %s\n",
		r.posted, o.rate, r.sendWindow.Round(time.Millisecond), r.accepted, r.postErrors, ms(r.postLatency.P50), ms(r.postLatency.P99), ms(r.postLatency.Max))
	fmt.Fprintf(w, "deliveries        %d of %d expected; lost %d (on %d sockets), duplicated %d, unexpected %d; drain timed out: %v\n",
		t.Delivered, t.Expected, t.Lost, t.SocketsLosing, t.Duplicated, t.Unexpected, r.drainTimedOut)
	fmt.Fprintf(w, "latency           p50 %s  p90 %s  p99 %s  max %s  mean %s  (%d samples)\n",
		ms(t.Latency.P50), ms(t.Latency.P90), ms(t.Latency.P99), ms(t.Latency.Max), ms(t.Latency.Mean), t.Latency.Count)
	for _, m := range []struct {
		name string
		s    latencySummary
	}{{"first delivery", t.First}, {"last delivery", t.Last}, {"fan-out", t.Spread}} {
		fmt.Fprintf(w, "per message       %-15s p50 %s  p90 %s  p99 %s  max %s  (%d messages)\n", m.name, ms(m.s.P50), ms(m.s.P90), ms(m.s.P99), ms(m.s.Max), m.s.Count)
	}
	if len(t.Slowest) > 0 {
		fmt.Fprintf(w, "slowest messages ")
		for _, m := range t.Slowest {
			fmt.Fprintf(w, " #%d sent at %.3f s: %s;", m.Seq, float64(m.Sent-r.serverStarted)/1e9, ms(time.Duration(m.Last)))
		}
		fmt.Fprintf(w, " (sent: since the server started, the clock of GODEBUG=gctrace=1)\n")
	}
	fmt.Fprintf(w, "server CPU        %s over %s = %.0f%% of one core\n", r.cpu.Round(10*time.Millisecond), r.deliverWindow.Round(time.Millisecond),
		100*r.cpu.Seconds()/r.deliverWindow.Seconds())
	fmt.Fprintf(w, "frames            %d received during the run (%.0f bytes each on average); %d sockets closed by the server\n",
		r.frames, float64(r.frameBytes)/float64(max(r.frames, 1)), r.closed)
	fmt.Fprintf(w, "RESULT %s procs=%d n=%d rate=%g msgs=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f lost=%d dup=%d cpu_pct=%.0f rss_per_socket_kb=%.1f connect_cpu_us=%.0f\n",
		r.target, r.procs, r.sockets, o.rate, r.accepted, float64(t.Latency.P50)/1e6, float64(t.Latency.P99)/1e6, float64(t.Latency.Max)/1e6,
		t.Lost, t.Duplicated, 100*r.cpu.Seconds()/r.deliverWindow.Seconds(), perConn/1e3, connectCPU)
}

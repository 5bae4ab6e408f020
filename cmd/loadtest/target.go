package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
)

// jwtSecret is the JWT_SECRET of every pagespace process of a run, and the key the baseline
// verifies the same tokens with.
const jwtSecret = "loadtest-secret-loadtest-secret-loadtest"

// target is the server under test: its processes, how socket i is opened and how a message is
// posted.
type target struct {
	srv    *server   // the process posts go through (the only one without -procs)
	others []*server // with -procs: the processes the sockets are on
	dial   func(ctx context.Context, i int) error
	post   func(ctx context.Context, content string) (int, error)
}

// all lists the target's processes.
func (t *target) all() []*server { return append([]*server{t.srv}, t.others...) }

// stop stops every process the target started.
func (t *target) stop() {
	for _, s := range t.all() {
		s.stop()
	}
	t.srv, t.others = nil, nil
}

// start builds pagespace and sets up the run's workspace with it (users who are members of one
// drive with one CHANNEL page), then stops it and starts the server under test on that database
// from a fresh process, so that the memory figures do not hold the password hashing's garbage:
// pagespace again, or the baseline (which reads the same users, drive and page, and verifies the
// same tokens).
func (t *target) start(ctx context.Context, o options, tmp, dbURL string, rcv *receiver, res *result) error {
	repo := o.repo
	if repo == "" {
		var err error
		if repo, err = findRepo(); err != nil {
			return err
		}
	}
	bin, err := buildPagespace(ctx, repo, tmp)
	if err != nil {
		return err
	}
	ps := &pagespaceProcs{bin: bin, tmp: tmp, dbURL: dbURL, o: o, ports: make([]int, o.procs)}
	for i := range ps.ports {
		if ps.ports[i], err = freePort(); err != nil {
			return err
		}
	}
	if err := ps.start(ctx, t); err != nil {
		return err
	}
	a := newAPI(t.srv.base, o.postWorkers)
	users := o.users
	if users <= 0 {
		users = (o.n + 99) / 100
	}
	res.users = min(users, o.n)
	runID := filepath.Base(tmp)[len("pagespace-loadtest-"):]
	ws, err := setupWorkspace(ctx, a, res.users, 4, runID)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	res.signup = ws.signup
	t.stop()
	a.client.CloseIdleConnections()
	// Contiguous blocks of sockets per user: each user's sockets join together.
	userOf := func(i int) user { return ws.users[i*res.users/o.n] }
	if o.baseline {
		res.target = "baseline"
		if o.baseMelody {
			res.target = "baseline-melody"
		}
		if dbURL == "" {
			dbURL = "sqlite:" + filepath.Join(ps.dataDir(0), "pagespace.db")
		}
		if err := t.startBaseline(ctx, o, tmp, dbURL); err != nil {
			return err
		}
		a = newAPI(t.srv.base, o.postWorkers)
		t.dial = func(ctx context.Context, i int) error {
			c, err := dialBaseline(ctx, t.srv.base, userOf(i).Token, ws.pageID)
			if err == nil {
				rcv.start(c, false)
			}
			return err
		}
		t.post = func(ctx context.Context, content string) (int, error) {
			return a.do(ctx, http.MethodPost, "/messages", ws.owner.Token, map[string]string{"pageId": ws.pageID, "content": content}, nil)
		}
		return nil
	}
	res.target = "pagespace"
	if err := ps.start(ctx, t); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	a = newAPI(t.srv.base, o.postWorkers)
	t.dial = func(ctx context.Context, i int) error {
		base := t.srv.base
		if len(t.others) > 0 {
			base = t.others[i%len(t.others)].base // every delivery crosses processes
		}
		c, err := dialPagespace(ctx, base, userOf(i).Token, ws.pageID)
		if err == nil {
			rcv.start(c, true)
		}
		return err
	}
	t.post = func(ctx context.Context, content string) (int, error) {
		return a.do(ctx, http.MethodPost, "/api/pages/"+ws.pageID+"/messages", ws.owner.Token, map[string]string{"content": content}, nil)
	}
	return nil
}

// startBaseline runs this binary as the baseline server (-serve-baseline) on dbURL.
func (t *target) startBaseline(ctx context.Context, o options, tmp, dbURL string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	argv := []string{exe, "-serve-baseline", "-addr", fmt.Sprintf("127.0.0.1:%d", port), "-database", dbURL,
		"-baseline-queue", strconv.Itoa(o.baseQueue), "-baseline-pad", strconv.Itoa(o.basePad)}
	if o.baseMelody {
		argv = append(argv, "-baseline-melody")
	}
	env := []string{"GOMAXPROCS=1"}
	if o.pprofAddr != "" {
		env = append(env, "PPROF_ADDR="+o.pprofAddr)
	}
	env = append(env, o.serverEnv...)
	t.srv, err = startServer(ctx, argv, env, port, o.serverCPUOrNone(), "/healthz", filepath.Join(tmp, "server.log"))
	return err
}

// pagespaceProcs starts the pagespace processes of a run, each on its own port and data
// directory, all on the run's database.
type pagespaceProcs struct {
	bin, tmp, dbURL string
	o               options
	ports           []int
}

func (p *pagespaceProcs) dataDir(i int) string { return filepath.Join(p.tmp, fmt.Sprintf("data%d", i)) }

func (p *pagespaceProcs) env(i int) []string {
	env := []string{
		fmt.Sprintf("ADDR=127.0.0.1:%d", p.ports[i]), "DATA_DIR=" + p.dataDir(i),
		"JWT_SECRET=" + jwtSecret, "AUTH_RATE_LIMIT=0",
		"WS_MAX_CONNECTIONS_PER_USER=1000000", "LOG_LEVEL=warn", "GOMAXPROCS=1",
	}
	if p.dbURL != "" {
		env = append(env, "DATABASE_URL="+p.dbURL)
	}
	if p.o.pprofAddr != "" && i == 0 {
		env = append(env, "PPROF_ADDR="+p.o.pprofAddr)
	}
	return append(env, p.o.serverEnv...)
}

// start starts every process into t.
func (p *pagespaceProcs) start(ctx context.Context, t *target) error {
	cpu := p.o.serverCPUOrNone()
	var err error
	t.srv, err = startServer(ctx, []string{p.bin}, p.env(0), p.ports[0], cpu, "/healthz", filepath.Join(p.tmp, "server.log"))
	if err != nil {
		return err
	}
	for i := 1; i < len(p.ports); i++ {
		s, err := startServer(ctx, []string{p.bin}, p.env(i), p.ports[i], cpu, "/healthz", filepath.Join(p.tmp, fmt.Sprintf("server%d.log", i)))
		if err != nil {
			return err
		}
		t.others = append(t.others, s)
	}
	return nil
}

package realtime_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/app/pagespacetest"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// serverProcess builds the pagespace command and runs it on cfg's database, as another process
// of the same deployment, with env (NAME=value) added. It returns the base URL and the process.
func serverProcess(t testing.TB, databaseURL, jwtSecret string, env ...string) (string, *os.Process) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "pagespace")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".." // the module root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:"+strconv.Itoa(port), "DATABASE_URL="+databaseURL,
		"JWT_SECRET="+jwtSecret, "DATA_DIR="+dir, "LOG_LEVEL=error")
	cmd.Env = append(cmd.Env, env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	ctx := ctxT(t)
	for {
		if resp, err := http.Get(base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return base, cmd.Process
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("the server process never became ready")
		case <-exited:
			t.Fatal("the server process exited")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// SIGKILL one of three processes while a writer posts through another: the killed process's
// user leaves the page's viewers within the lease time, and its client, reconnecting to the
// third process, recovers every message it missed, once and in order.
func TestKilledProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server command")
	}
	cfg := leaseConfig(t, 2*time.Second)
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	b := &rt{Env: apptest.StartWith(t, cfg), t: t}
	base, proc := serverProcess(t, cfg.DatabaseURL, cfg.JWTSecret)
	k := &rt{Env: &apptest.Env{Server: &pagespacetest.Server{T: t, URL: base, Client: http.DefaultClient, Config: cfg}}, t: t}

	owner, member := a.Signup("Owner"), a.Signup("Member")
	d := a.CreateDrive(owner, "D")
	a.AddMember(owner, d, member, "MEMBER")
	ch := a.CreatePage(owner, d, "CHANNEL", "chat", "")
	oA := a.dial(owner)
	oA.join(ch)
	mK := k.dial(member)
	mK.join(ch)
	oA.awaitViewers(ch, "Member,Owner")

	const total = 40
	posted := make(chan error, 1)
	go func() {
		for i := range total {
			status, body, err := a.Send("POST", "/api/pages/"+ch+"/messages", owner.Token, map[string]any{"content": fmt.Sprintf("m%02d", i)})
			if err == nil && status != 201 {
				err = fmt.Errorf("post: %d %s", status, body)
			}
			if err != nil {
				posted <- err
				return
			}
		}
		posted <- nil
	}()
	next, offset := 0, ""
	for next < 5 {
		ev := mK.await("new_message")
		if got := payload(ev)["message"].(map[string]any)["content"]; got != fmt.Sprintf("m%02d", next) {
			t.Fatalf("message %d is %v", next, got)
		}
		next, offset = next+1, ev.Offset
	}
	if err := proc.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	oA.awaitViewers(ch, "Owner") // the lease ran out
	if err := <-posted; err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := sioclient.Dial(ctx, b.URL, map[string]any{"token": member.Token, "pid": mK.PID, "offset": offset}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if c.PID != mK.PID {
		t.Fatalf("not recovered on another process: pid %q, was %q", c.PID, mK.PID)
	}
	for next < total {
		ev, _, err := c.WaitFor(ctx, "new_message")
		if err != nil {
			t.Fatalf("waiting for m%02d: %v", next, err)
		}
		got := payload(ev)["message"].(map[string]any)["content"]
		if got != fmt.Sprintf("m%02d", next) {
			t.Fatalf("after recovery: %v, want m%02d", got, next)
		}
		next++
	}
}

// A process whose PostgreSQL connections are all terminated (and may not come back for a
// while) answers /readyz 503, heals by itself once the database takes connections again, and
// delivers to its sockets every event committed meanwhile through another process, once and in
// order.
func TestDatabaseConnectionsTerminated(t *testing.T) {
	cfg := leaseConfig(t, 5*time.Second)
	a := &rt{Env: apptest.StartWith(t, cfg), t: t}
	vcfg := cfg
	vcfg.DatabaseURL += "&application_name=pagespace_victim"
	v := &rt{Env: apptest.StartWith(t, vcfg), t: t}
	owner, member := a.Signup("Owner"), a.Signup("Member")
	d := a.CreateDrive(owner, "D")
	a.AddMember(owner, d, member, "MEMBER")
	ch := a.CreatePage(owner, d, "CHANNEL", "chat", "")
	mV := v.dial(member)
	mV.join(ch)
	post := func(i int) {
		a.Do("POST", "/api/pages/"+ch+"/messages", owner.Token, map[string]any{"content": fmt.Sprintf("m%02d", i)}).Expect(201)
	}
	expect := func(i int) {
		if got := payload(mV.await("new_message"))["message"].(map[string]any)["content"]; got != fmt.Sprintf("m%02d", i) {
			t.Fatalf("received %v, want m%02d", got, i)
		}
	}
	post(0)
	expect(0)

	admin, err := sql.Open("pgx", adminURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	u, _ := url.Parse(cfg.DatabaseURL)
	name := strings.TrimPrefix(u.Path, "/")
	if _, err := admin.Exec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS false"); err != nil {
		t.Fatal(err)
	}
	allow := func() {
		if _, err := admin.Exec("ALTER DATABASE " + name + " WITH ALLOW_CONNECTIONS true"); err != nil {
			t.Error(err)
		}
	}
	t.Cleanup(allow) // before the database is dropped
	if _, err := admin.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pagespace_victim'"); err != nil {
		t.Fatal(err)
	}
	v.waitReady(http.StatusServiceUnavailable)
	for i := 1; i < 10; i++ {
		post(i) // through the other process, whose connections stay
	}
	allow()
	v.waitReady(http.StatusOK)
	for i := 1; i < 10; i++ {
		expect(i)
	}
	post(10)
	expect(10)
}

// adminURL is the PostgreSQL server's maintenance database, as apptest uses it.
func adminURL() string {
	if u := os.Getenv("PAGESPACE_TEST_PG"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// waitReady polls /readyz until it answers status.
func (r *rt) waitReady(status int) {
	r.t.Helper()
	ctx := ctxT(r.t)
	for {
		if resp, err := http.Get(r.URL + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == status {
				return
			}
		}
		select {
		case <-ctx.Done():
			r.t.Fatalf("/readyz never answered %d", status)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

package eventlog_test

import (
	"context"
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/modules/eventlog"
	"github.com/pagespace/pagespace/modules/pgdriver"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// A writer's transaction goes from taking the log's lock to COMMIT without waiting for this
// process: its last insert and COMMIT travel in one message. Here the writer waits for the lock
// behind another connection, and then hears nothing from PostgreSQL (a proxy withholds every
// reply): its transaction must still commit, and release the lock, once the lock is free. Were
// COMMIT sent only after the insert's reply, the lock would stay held until the replies flow.
func TestCommitNeedsNoReply(t *testing.T) {
	env, holder := startHoldingLogLock(t)
	ctx := context.Background()
	proxy := startReplyProxy(t, env.Config.DatabaseURL)
	sqlDB, err := pgdriver.Open(proxy.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{Logger: logger.Discard, SkipDefaultTransaction: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := sqlDB.Ping(); err != nil { // connect before the replies are held
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(1)
	log := eventlog.New(db, nil)
	done := make(chan error, 1)
	go func() {
		_, err := log.Tx(ctx, func(tx *gorm.DB, r *eventlog.Recorder) error {
			r.Record(eventlog.PageDraft("test", "u1", "d1", "p1", nil))
			return nil
		})
		done <- err
	}()
	waitForLockWaiters(t, holder, 1, done)
	proxy.hold()
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", advisoryKey); err != nil {
		t.Fatal(err)
	}
	lockCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := holder.Exec(lockCtx, "SELECT pg_advisory_lock($1)", advisoryKey); err != nil {
		t.Fatalf("the writer's transaction kept the log's lock while it heard nothing: %v", err)
	}
	var n int
	if err := holder.QueryRow(ctx, "SELECT count(*) FROM events WHERE type = 'test'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d events committed (%v), want 1", n, err)
	}
	if _, err := holder.Exec(ctx, "SELECT pg_advisory_unlock($1)", advisoryKey); err != nil {
		t.Fatal(err)
	}
	proxy.release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the writer did not finish once it heard back")
	}
}

// replyProxy forwards connections to PostgreSQL; while held, it withholds what the server sends.
type replyProxy struct {
	url      string
	mu       sync.Mutex
	released chan struct{} // nil while replies flow
}

func startReplyProxy(t *testing.T, dbURL string) *replyProxy {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	target := u.Host
	u.Host = ln.Addr().String()
	p := &replyProxy{url: u.String()}
	var wg sync.WaitGroup
	var conns []net.Conn
	var connsMu sync.Mutex
	t.Cleanup(func() {
		ln.Close()
		p.release()
		connsMu.Lock()
		for _, c := range conns {
			c.Close()
		}
		connsMu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			client, err := ln.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			connsMu.Lock()
			conns = append(conns, client, server)
			connsMu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); _, _ = io.Copy(server, client); server.Close() }()
			go func() { defer wg.Done(); p.copyReplies(client, server); client.Close() }()
		}
	}()
	return p
}

func (p *replyProxy) copyReplies(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			wait := p.released
			p.mu.Unlock()
			if wait != nil {
				<-wait
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *replyProxy) hold() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.released == nil {
		p.released = make(chan struct{})
	}
}

func (p *replyProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.released != nil {
		close(p.released)
		p.released = nil
	}
}

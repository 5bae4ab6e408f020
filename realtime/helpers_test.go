package realtime_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// rt wraps a running app with socket helpers.
type rt struct {
	*apptest.Env
	t *testing.T
}

func start(t *testing.T, opts ...func(*app.Config)) *rt {
	t.Helper()
	return &rt{Env: apptest.Start(t, opts...), t: t}
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sock is a connected socket of a user, with a private barrier page to order assertions.
type sock struct {
	*sioclient.Client
	r       *rt
	u       apptest.User
	barrier string // a page only this user sees, joined
	bdrive  string
}

func (r *rt) dial(u apptest.User) *sock {
	r.t.Helper()
	c, err := r.Dial(ctxT(r.t), map[string]any{"token": u.Token}, nil)
	if err != nil {
		r.t.Fatalf("dial: %v", err)
	}
	r.t.Cleanup(func() { c.Close() })
	return &sock{Client: c, r: r, u: u}
}

// withBarrier gives the socket a drive and page of its own, joined, for barrier().
func (s *sock) withBarrier() *sock {
	s.r.t.Helper()
	s.bdrive = s.r.CreateDrive(s.u, "barrier")
	s.barrier = s.r.CreatePage(s.u, s.bdrive, "DOCUMENT", "barrier", "")
	s.join(s.barrier)
	return s
}

// join joins a page room and fails the test unless the ack is ok.
func (s *sock) join(pageID string) map[string]any {
	s.r.t.Helper()
	ack := s.call("join_page", pageID)
	if ack["ok"] != true {
		s.r.t.Fatalf("join_page %s: %v", pageID, ack)
	}
	return ack
}

func (s *sock) call(event string, args ...any) map[string]any {
	s.r.t.Helper()
	var out map[string]any
	if err := s.Call(ctxT(s.r.t), &out, event, args...); err != nil {
		s.r.t.Fatalf("%s: %v", event, err)
	}
	return out
}

// await returns the next event named name, failing after the deadline.
func (s *sock) await(name string) sioclient.Event {
	s.r.t.Helper()
	ev, _, err := s.WaitFor(ctxT(s.r.t), name)
	if err != nil {
		s.r.t.Fatalf("waiting for %s: %v", name, err)
	}
	return ev
}

// sync writes to the socket's barrier page and returns every event that arrived before the
// barrier's page_updated: since delivery is in log order, anything the earlier writes were going
// to deliver has arrived by then.
func (s *sock) sync() []sioclient.Event {
	s.r.t.Helper()
	if s.barrier == "" {
		s.r.t.Fatal("sync needs withBarrier")
	}
	s.r.Do("PATCH", "/api/pages/"+s.barrier, s.u.Token, map[string]any{"title": "b " + time.Now().String()}).Expect(200)
	var before []sioclient.Event
	for {
		ev, err := s.Next(ctxT(s.r.t))
		if err != nil {
			s.r.t.Fatalf("sync: %v (after %d events)", err, len(before))
		}
		if ev.Name == "page_updated" && pageIDOf(ev) == s.barrier {
			return before
		}
		if pageIDOf(ev) == s.barrier || payload(ev)["driveId"] == s.bdrive {
			continue // the barrier's own set-up
		}
		if ev.Name == "presence_changed" {
			continue // drive presence is not in the log: a barrier does not order it
		}
		before = append(before, ev)
	}
}

func pageIDOf(ev sioclient.Event) string {
	var p struct {
		PageID string `json:"pageId"`
	}
	if len(ev.Args) > 0 {
		_ = json.Unmarshal(ev.Args[0], &p)
	}
	return p.PageID
}

func payload(ev sioclient.Event) map[string]any {
	var m map[string]any
	if len(ev.Args) > 0 {
		_ = json.Unmarshal(ev.Args[0], &m)
	}
	return m
}

func names(evs []sioclient.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.Name
	}
	return out
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

// waitConnections polls /metrics until the server counts n open connections (a condition with
// a deadline, for events the server does not announce, such as a closed tab being processed).
func (r *rt) waitConnections(n int) {
	r.t.Helper()
	r.waitMetric(fmt.Sprintf("pagespace_realtime_connections %d\n", n))
}

// waitMetric polls /metrics until it holds line.
func (r *rt) waitMetric(line string) {
	r.t.Helper()
	ctx := ctxT(r.t)
	for {
		resp, err := http.Get(r.URL + "/metrics")
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), line) {
				return
			}
		}
		select {
		case <-ctx.Done():
			r.t.Fatalf("/metrics never showed %q", line)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

package docclient_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/docclient"
	"github.com/pagespace/pagespace/internal/sioclient"
	"github.com/pagespace/pagespace/pages/ot"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func ctxT(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// fast lifts the op rate limit, for clients that type as fast as the server answers.
func fast(c *app.Config) { c.Realtime.DocOpRate, c.Realtime.DocOpBurst = 1e6, 1e6 }

func dial(t testing.TB, env *apptest.Env, u apptest.User) *sioclient.Client {
	t.Helper()
	auth := map[string]any{"token": u.Token}
	var s *sioclient.Client
	var err error
	if _, bench := t.(*testing.B); bench {
		// A benchmark measures the server: its clients skip the tests' schema checks of every
		// event and ack (asyncapi.json), which would otherwise be most of the clients' CPU.
		s, err = sioclient.DialOptions(ctxT(t, 20*time.Second), env.URL, auth, sioclient.Options{})
	} else {
		s, err = env.Dial(ctxT(t, 20*time.Second), auth, nil)
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func open(t testing.TB, env *apptest.Env, u apptest.User, pageID, clientID string) *docclient.Client {
	t.Helper()
	c, err := docclient.Open(ctxT(t, 20*time.Second), dial(t, env, u), pageID, clientID)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// reply is a decoded ack.
type reply struct {
	OK      bool   `json:"ok"`
	Version int64  `json:"version"`
	Content string `json:"content"`
	Ops     []struct {
		Version  int64           `json:"version"`
		Op       json.RawMessage `json:"op"`
		ClientID string          `json:"clientId"`
		Seq      int64           `json:"seq"`
	} `json:"ops"`
	Error struct {
		Code string `json:"code"`
	} `json:"error"`
}

func call(t testing.TB, s *sioclient.Client, event string, arg any) reply {
	t.Helper()
	var r reply
	if err := s.Call(ctxT(t, 20*time.Second), &r, event, arg); err != nil {
		t.Fatalf("%s: %v", event, err)
	}
	return r
}

func mustOK(t testing.TB, r reply, what string) reply {
	t.Helper()
	if !r.OK {
		t.Fatalf("%s: error ack %q", what, r.Error.Code)
	}
	return r
}

func wantCode(t testing.TB, r reply, code, what string) {
	t.Helper()
	if r.OK || r.Error.Code != code {
		t.Fatalf("%s: ok=%v code %q, want %q", what, r.OK, r.Error.Code, code)
	}
}

func docOp(pageID string, version int64, op any, clientID string, seq int64) map[string]any {
	return map[string]any{"pageId": pageID, "version": version, "op": op, "clientId": clientID, "seq": seq}
}

// serverDoc opens the document on a fresh socket of u: the server's version and content.
func serverDoc(t testing.TB, env *apptest.Env, u apptest.User, pageID string) (int64, string) {
	t.Helper()
	s := dial(t, env, u)
	r := mustOK(t, call(t, s, "doc_open", map[string]string{"pageId": pageID}), "doc_open")
	s.Close()
	return r.Version, r.Content
}

var alphabet = []string{"a", "b", "c", " ", "é", "👋", "\n", "ß", "文"}

// randomEdit is an insert or a delete at a random place of text.
func randomEdit(rng *rand.Rand, text string) ot.Op {
	n := utf8.RuneCountInString(text)
	pos := rng.IntN(n + 1)
	if n > 0 && rng.IntN(3) == 0 {
		del := 1 + rng.IntN(min(3, n-pos+1))
		if pos+del > n {
			pos = n - del
		}
		return ot.Op{}.Retain(pos).Delete(del).Retain(n - pos - del)
	}
	ins := ""
	for range 1 + rng.IntN(3) {
		ins += alphabet[rng.IntN(len(alphabet))]
	}
	return ot.Op{}.Retain(pos).Insert(ins).Retain(n - pos)
}

// converge waits until every client is synchronised at the server's version, then checks that
// all hold the server's text.
func converge(t testing.TB, env *apptest.Env, u apptest.User, pageID string, clients ...*docclient.Client) string {
	t.Helper()
	ctx := ctxT(t, 60*time.Second)
	for _, c := range clients {
		if err := c.WaitSynced(ctx); err != nil {
			t.Fatalf("synced: %v", err)
		}
	}
	version, content := serverDoc(t, env, u, pageID)
	for i, c := range clients {
		if err := c.WaitVersion(ctx, version); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if got := c.Text(); got != content {
			t.Fatalf("client %d at version %d: %q, server %q", i, c.Version(), got, content)
		}
	}
	return content
}

func fmtInt(n int64) string { return fmt.Sprint(n) }

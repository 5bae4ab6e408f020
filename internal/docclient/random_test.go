package docclient_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/internal/docclient"
	"github.com/pagespace/pagespace/internal/sioclient"
	"github.com/pagespace/pagespace/pages/ot"
)

// Three clients type random edits (with emoji) at random speeds, sometimes waiting for their
// ack, dropping their connection now and then (the transport closed underneath) and
// reconnecting; then the server restarts while they have ops in flight, they keep typing
// offline, reconnect to the new process and type on. All end with the server's text, no client
// failed, and every op the server acknowledged is in that text: the server's op history holds
// each acknowledged {clientId, seq} exactly once, at the version its ack named, no op twice, and
// replaying the history from the empty page gives the final text.
func TestRandomEditsWithDropsAndRestart(t *testing.T) {
	env := apptest.Start(t, fast, func(c *app.Config) { c.Doc.KeepOps = 1 << 20 })
	w := env.NewWorld()
	page := w.Page("DOCUMENT", "Notes")
	users := []apptest.User{w.Owner, w.Admin, w.Member}
	clients := make([]*docclient.Client, len(users))
	var mu sync.Mutex
	var socks []*sioclient.Client // every socket, closed at the end
	dialOn := func(e *apptest.Env, u apptest.User) *sioclient.Client {
		s, err := e.Dial(ctxT(t, 20*time.Second), map[string]any{"token": u.Token}, nil)
		if err != nil {
			t.Errorf("dial: %v", err)
			return nil
		}
		mu.Lock()
		socks = append(socks, s)
		mu.Unlock()
		return s
	}
	t.Cleanup(func() {
		for _, s := range socks {
			s.Close()
		}
	})
	for i, u := range users {
		c, err := docclient.Open(ctxT(t, 20*time.Second), dialOn(env, u), page, "random-"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		clients[i] = c
	}
	current := env
	var sockOf = make([]*sioclient.Client, len(users))
	for i := range users {
		sockOf[i] = socks[i]
	}
	// phase types; online, it also drops connections and waits for acks now and then.
	phase := func(seed uint64, edits int, drops bool) {
		var wg sync.WaitGroup
		for i, c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(seed, uint64(i)))
				pace := time.Duration(rng.IntN(3)) * time.Millisecond // this client's typing speed
				for range edits {
					if pace > 0 {
						time.Sleep(time.Duration(rng.Int64N(int64(pace) + 1))) // typing pace, not synchronisation
					}
					if err := c.EditWith(func(text string) ot.Op { return randomEdit(rng, text) }); err != nil {
						t.Error(err)
						return
					}
					switch rng.IntN(10) {
					case 0:
						if drops {
							sockOf[i].Close()
							s := dialOn(current, users[i])
							if s == nil || c.Reconnect(ctxT(t, 20*time.Second), s) != nil {
								t.Errorf("client %d: reconnect failed", i)
								return
							}
							sockOf[i] = s
						}
					case 1, 2:
						if !drops {
							continue // offline: nothing can be acknowledged
						}
						if err := c.WaitSynced(ctxT(t, 30*time.Second)); err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
	}
	phase(1, 60, true)

	// Restart: a new process on the same database. Clients keep editing while it is down.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := env.App.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range sockOf {
		<-s.Done
	}
	phase(2, 5, false) // offline: nothing can be acknowledged, so nothing waits for it
	current = apptest.StartWith(t, env.Config)
	for i, c := range clients {
		s := dialOn(current, users[i])
		if s == nil {
			t.FailNow()
		}
		if err := c.Reconnect(ctxT(t, 20*time.Second), s); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		sockOf[i] = s
	}
	phase(3, 60, true)
	text := converge(t, current, w.Owner, page, clients...)
	t.Logf("%d code points after 3 × 125 edits", len([]rune(text)))
	ids := make([]string, len(clients))
	for i := range clients {
		ids[i] = "random-" + strconv.Itoa(i)
	}
	checkHistory(t, current, w.Owner, page, text, clients, ids)
	for _, c := range clients {
		c.Close()
	}
}

// checkHistory checks that every op the clients had acknowledged is in the server's history
// (doc_ops from version 0) exactly once, at the version of its ack, that no {clientId, seq} is
// in it twice, and that the history replayed from the empty page gives text.
func checkHistory(t *testing.T, env *apptest.Env, u apptest.User, pageID, text string, clients []*docclient.Client, ids []string) {
	t.Helper()
	s := dial(t, env, u)
	defer s.Close()
	mustOK(t, call(t, s, "doc_open", map[string]string{"pageId": pageID}), "doc_open")
	r := mustOK(t, call(t, s, "doc_ops", map[string]any{"pageId": pageID, "since": 0}), "doc_ops")
	if int64(len(r.Ops)) != r.Version {
		t.Fatalf("history of %d ops for version %d", len(r.Ops), r.Version)
	}
	type key struct {
		client string
		seq    int64
	}
	at := map[key]int64{}
	replayed := ""
	for _, o := range r.Ops {
		k := key{o.ClientID, o.Seq}
		if v, dup := at[k]; dup {
			t.Fatalf("%s seq %d applied twice: versions %d and %d", o.ClientID, o.Seq, v, o.Version)
		}
		at[k] = o.Version
		op, err := ot.ParseJSON(o.Op)
		if err == nil {
			replayed, err = op.Apply(replayed)
		}
		if err != nil {
			t.Fatalf("replay version %d: %v", o.Version, err)
		}
	}
	if replayed != text {
		t.Fatalf("the history replayed gives %q, the document is %q", replayed, text)
	}
	acked := 0
	for i, c := range clients {
		for _, a := range c.Acks() {
			acked++
			if v, ok := at[key{ids[i], a.Seq}]; !ok || v != a.Version {
				t.Fatalf("client %d seq %d acknowledged as version %d: in the history at %d (present %v)", i, a.Seq, a.Version, v, ok)
			}
		}
	}
	if acked != len(r.Ops) {
		t.Fatalf("%d ops acknowledged, %d in the history", acked, len(r.Ops))
	}
}

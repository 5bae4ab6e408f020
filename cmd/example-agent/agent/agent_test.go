package agent_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/app/pagespacetest"
	"github.com/pagespace/pagespace/cmd/example-agent/agent"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait bounds every wait on the agent; the tests never sleep.
const wait = 20 * time.Second

// world is a server with Alice, the owner of a drive with the channel "general", an agent
// "Helper" of the drive (its key), and Alice's socket in the channel.
type world struct {
	env     *apptest.Env
	alice   apptest.User
	channel string
	key     string
	watch   *pagespacetest.Socket
	replies chan agent.Reply
	connect chan bool
}

func setup(t *testing.T) *world {
	t.Helper()
	env := apptest.Start(t)
	w := &world{env: env, alice: env.Signup("Alice Able"), replies: make(chan agent.Reply, 10), connect: make(chan bool, 10)}
	drive := env.CreateDrive(w.alice, "Team")
	w.channel = env.CreatePage(w.alice, drive, "CHANNEL", "general", "")
	var made struct{ Token string }
	env.Do("POST", "/api/drives/"+drive+"/agents", w.alice.Token, map[string]any{"name": "Helper", "role": "MEMBER"}).Expect(201).JSON(&made)
	w.key = made.Token
	w.watch = env.Socket(w.alice)
	w.watch.Timeout = wait
	w.watch.Join(w.channel)
	return w
}

// start runs the agent against server with cfg (its server, key and hooks filled in) until the
// test ends, and waits for its first connect.
func (w *world) start(t *testing.T, server string, cfg agent.Config) {
	t.Helper()
	cfg.Server, cfg.Key = server, w.key
	cfg.OnConnect = func(recovered bool) { w.connect <- recovered }
	cfg.OnReply = func(r agent.Reply) { w.replies <- r }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Run(ctx, cfg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	if recovered := w.connected(t); recovered {
		t.Fatalf("the first connect says it recovered a session")
	}
}

// connected waits for the agent's next connect and says whether it recovered its session.
func (w *world) connected(t *testing.T) bool {
	t.Helper()
	return await(t, w.connect, "connect")
}

// reply waits for the agent's next finished answer.
func (w *world) reply(t *testing.T) agent.Reply {
	t.Helper()
	return await(t, w.replies, "answer")
}

// await receives from ch, failing the test when nothing comes within wait.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	var v T
	select {
	case v = <-ch:
	case <-time.After(wait):
		t.Fatalf("no %s from the agent", what)
	}
	return v
}

// stored is the message as the server keeps it.
func (w *world) stored(t *testing.T, id string) (content, status string) {
	t.Helper()
	var m struct{ Content, Status string }
	w.env.Do("GET", "/api/pages/"+w.channel+"/messages/"+id, w.alice.Token, nil).Expect(200).JSON(&m)
	return m.Content, m.Status
}

// The agent answers the message that names it (in any case), not the one before that does not,
// with a streamed message that holds every word it sent, after showing Alice that it thinks,
// runs its tool step by step and is idle again.
func TestAnswersWhenNamed(t *testing.T) {
	w := setup(t)
	w.start(t, w.env.URL, agent.Config{})
	w.env.PostMessage(w.alice, w.channel, "Nobody named here")
	asked := w.env.PostMessage(w.alice, w.channel, "@helper, what is the plan?")

	r := w.reply(t)
	if r.To != asked || r.Status != "complete" || r.Err != nil || r.PageID != w.channel {
		t.Fatalf("the answer: %+v", r)
	}
	if !strings.HasPrefix(r.Text, "Hi Alice Able! I am Helper") || !strings.Contains(r.Text, "you said “what is the plan?”.") {
		t.Errorf("the answer says %q", r.Text)
	}
	if words := len(strings.Fields(r.Text)); r.Chunks != words {
		t.Errorf("%d chunks for %d words", r.Chunks, words)
	}
	if content, status := w.stored(t, r.MessageID); content != r.Text || status != "complete" {
		t.Errorf("stored: %s %q, want complete %q", status, content, r.Text)
	}

	// What Alice saw, in order: the status steps, then the answer from its start to its end.
	var seen []string
	for ended := false; !ended; {
		ev, err := w.watch.Next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		var p struct {
			State    string
			Progress *float64
			Message  struct{ ID, Status string }
		}
		_ = ev.Decode(0, &p)
		switch {
		case ev.Name == "agent_status" && p.Progress != nil:
			seen = append(seen, fmt.Sprintf("%s %g", p.State, *p.Progress*100))
		case ev.Name == "agent_status":
			seen = append(seen, p.State)
		case (ev.Name == "new_message" || ev.Name == "message_updated") && p.Message.ID == r.MessageID:
			seen = append(seen, ev.Name+" "+p.Message.Status)
			ended = ev.Name == "message_updated"
		}
	}
	want := "thinking, running_tool 0, running_tool 50, running_tool 100, idle, new_message streaming, message_updated complete"
	if got := strings.Join(seen, ", "); got != want {
		t.Errorf("Alice saw %s\nwant %s", got, want)
	}
}

// Alice stops the answer after three words: the agent, waiting to send the fourth, stops at
// once (it would wait for ever otherwise), the message holds the three words it had sent, and
// the agent answers the next question.
func TestStopsWhenStopped(t *testing.T) {
	w := setup(t)
	var once sync.Once
	held := make(chan string, 1) // the answer held after three words
	w.start(t, w.env.URL, agent.Config{Pace: func(ctx context.Context, r agent.Reply) error {
		hold := false
		if r.Chunks == 3 {
			once.Do(func() { hold = true })
		}
		if !hold {
			return nil
		}
		held <- r.MessageID
		<-ctx.Done()
		return ctx.Err()
	}})
	asked := w.env.PostMessage(w.alice, w.channel, "@Helper tell me everything")
	msg := await(t, held, "answer of three words")
	w.env.Do("POST", "/api/pages/"+w.channel+"/messages/"+msg+"/stop", w.alice.Token, nil).Expect(200)

	r := w.reply(t)
	if r.To != asked || r.MessageID != msg || r.Status != "stopped" || r.Chunks != 3 || r.Err != nil {
		t.Fatalf("the stopped answer: %+v", r)
	}
	if content, status := w.stored(t, msg); content != r.Text || status != "stopped" || len(strings.Fields(content)) != 3 {
		t.Errorf("stored: %s %q, want stopped %q", status, content, r.Text)
	}

	w.env.PostMessage(w.alice, w.channel, "@Helper and now?")
	if r := w.reply(t); r.Status != "complete" {
		t.Errorf("the next answer: %+v", r)
	}
}

// The agent's connection drops (a proxy between it and the server cuts it) and cannot come back
// for a while; Alice names it meanwhile. When the way is open again, the agent recovers its
// session, so the server replays Alice's message, and the agent answers it.
func TestReconnectsAndCatchesUp(t *testing.T) {
	w := setup(t)
	p := newProxy(t, w.env.URL)
	w.start(t, p.url, agent.Config{})

	p.cut(true)
	asked := w.env.PostMessage(w.alice, w.channel, "@Helper are you there?")
	p.cut(false)
	if !w.connected(t) {
		t.Errorf("the agent's reconnect did not recover its session")
	}
	if r := w.reply(t); r.To != asked || r.Status != "complete" {
		t.Fatalf("the answer: %+v", r)
	}
}

// proxy passes TCP connections to the server, and can cut them all and refuse new ones.
type proxy struct {
	url    string
	ln     net.Listener
	target string
	mu     sync.Mutex
	closed bool
	refuse bool
	conns  map[net.Conn]bool
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, server string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{url: "http://" + ln.Addr().String(), ln: ln, target: strings.TrimPrefix(server, "http://"), conns: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		ln.Close()
		p.cut(true)
		p.wg.Wait()
	})
	return p
}

func (p *proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refused := p.refuse || p.closed
		p.mu.Unlock()
		if refused {
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[up] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// pipe copies from one side to the other; when either side ends, both do.
func (p *proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut closes every connection and, while on, refuses new ones; cut(false) lets them in again.
func (p *proxy) cut(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refuse = on
	if !on {
		return
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

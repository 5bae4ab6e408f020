package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pagespace/pagespace/internal/sioclient"
)

// Config is what Run needs; Server and Key are required.
type Config struct {
	Server   string        // the server's base URL, e.g. http://localhost:8080
	Key      string        // the agent's API key (psk_...)
	Channels []string      // the channels to answer in; none: every channel the agent can see
	Delay    time.Duration // between two steps of an answer: the tool's, then each word
	Log      *slog.Logger  // nil: nothing is logged
	// Pace, if set, is called before each step of an answer in place of waiting Delay, with the
	// answer so far; an error ends the answer. Its ctx ends when someone stops the answer.
	Pace func(ctx context.Context, r Reply) error
	// OnConnect, if set, is called after each connect, with whether the session was recovered
	// (its rooms kept, the events missed meanwhile replayed).
	OnConnect func(recovered bool)
	// OnReply, if set, is called when an answer ends.
	OnReply func(Reply)
}

// Reply is an answer of the agent: so far (to Pace) or as it ended (to OnReply).
type Reply struct {
	To        string // the id of the message answered
	PageID    string
	MessageID string // the streamed message ("" until it started)
	Chunks    int    // the chunks the server accepted
	Text      string // their text
	Status    string // at the end: "complete", "stopped" (someone stopped it) or "error"
	Err       error  // with "error": what went wrong
}

// Run answers the messages that name the agent until ctx ends (then it returns nil) or the key
// is refused. It reconnects whenever the socket drops.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Server == "" || cfg.Key == "" {
		return errors.New("agent: the server's URL and the agent's key are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	a := &agent{cfg: cfg, log: cfg.Log, stops: map[string]context.CancelFunc{},
		api: &client{base: strings.TrimSuffix(cfg.Server, "/"), key: cfg.Key, http: &http.Client{Timeout: 30 * time.Second}}}
	me, err := a.api.me(ctx)
	if err != nil {
		return fmt.Errorf("agent: who am I: %w", err)
	}
	a.me = me
	a.log.Info("agent: signed in", "name", me.Name, "server", a.api.base)
	defer a.replies.Wait()
	return a.run(ctx)
}

// agent is a running example agent.
type agent struct {
	cfg  Config
	log  *slog.Logger
	api  *client
	me   user
	link link

	mu      sync.Mutex
	stops   map[string]context.CancelFunc // a streamed message's id → what stops its answer
	replies sync.WaitGroup
}

// run connects, listens and reconnects until ctx ends or the key is refused.
func (a *agent) run(ctx context.Context) error {
	var pid, offset string
	wait := time.Second
	for {
		c, err := a.connect(ctx, pid, offset)
		var refused *sioclient.ConnectError
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.As(err, &refused) && refused.Code() == "invalid_token":
			return fmt.Errorf("agent: the server refused the key: %w", err)
		case err != nil:
			a.log.Warn("agent: cannot connect", "err", err.Error(), "retry_in", wait)
			if sleep(ctx, wait) != nil {
				return nil
			}
			wait = min(2*wait, 30*time.Second)
			continue
		}
		wait = time.Second
		recovered := pid != "" && c.PID == pid
		if !recovered {
			offset = "" // what came before this session is not replayed
		}
		pid = c.PID
		a.link.up(c, recovered)
		if !recovered {
			a.joinRooms(ctx)
		}
		a.log.Info("agent: connected", "recovered", recovered)
		if a.cfg.OnConnect != nil {
			a.cfg.OnConnect(recovered)
		}
		a.listen(ctx, c)
		a.link.down(c)
		if o := c.Offset(); o != "" {
			offset = o
		}
		if ctx.Err() != nil {
			return nil
		}
		a.log.Info("agent: connection lost, reconnecting", "reason", c.Reason())
	}
}

// connect opens a socket with the key, asking to recover the session pid from offset.
func (a *agent) connect(ctx context.Context, pid, offset string) (*sioclient.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, ackWait)
	defer cancel()
	auth := map[string]string{"token": a.cfg.Key}
	if pid != "" {
		auth["pid"], auth["offset"] = pid, offset
	}
	return sioclient.Dial(ctx, a.api.base, auth, nil)
}

// joinRooms joins the channels given, or else the agent's drives, whose rooms carry the
// messages of all their channels.
func (a *agent) joinRooms(ctx context.Context) {
	event, ids := "join_page", a.cfg.Channels
	if len(ids) == 0 {
		drives, err := a.api.drives(ctx)
		if err != nil {
			a.log.Warn("agent: cannot list the drives", "err", err.Error())
		}
		event, ids = "join_drive", drives
	}
	for _, id := range ids {
		if _, err := a.link.join(ctx, event, id); err != nil {
			a.log.Warn("agent: cannot join", "event", event, "id", id, "err", err.Error())
		}
	}
}

// listen handles the events of c until the connection ends, or ctx does (then it disconnects).
func (a *agent) listen(ctx context.Context, c *sioclient.Client) {
	stop := context.AfterFunc(ctx, func() { _ = c.Disconnect() })
	defer stop()
	for ev := range c.Events {
		switch ev.Name {
		case "new_message":
			var p struct{ Message message }
			if ev.Decode(0, &p) == nil && a.called(p.Message) {
				a.replies.Add(1)
				go a.answer(ctx, p.Message)
			}
		case "stream_stopped":
			var p struct{ MessageID string }
			if ev.Decode(0, &p) == nil {
				a.stop(p.MessageID)
			}
		}
	}
}

// called reports whether m asks for an answer: a whole message by someone else, in a channel
// the agent answers in, that names it.
func (a *agent) called(m message) bool {
	if m.Author == nil || m.Author.ID == a.me.ID || m.Status != "complete" {
		return false
	}
	if len(a.cfg.Channels) > 0 && !slices.Contains(a.cfg.Channels, m.PageID) {
		return false
	}
	return mentions(m.Content, a.me.Name)
}

// stop stops the answer being streamed as messageID, if any.
func (a *agent) stop(messageID string) {
	a.mu.Lock()
	cancel := a.stops[messageID]
	a.mu.Unlock()
	if cancel != nil {
		a.log.Info("agent: stopped by someone", "message", messageID)
		cancel()
	}
}

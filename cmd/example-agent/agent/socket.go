package agent

import (
	"context"
	"sync"
	"time"

	"github.com/pagespace/pagespace/internal/sioclient"
)

// ackWait bounds the wait for an ack: past it, the connection is taken for lost.
const ackWait = 10 * time.Second

// link is the agent's socket: the connection of the moment (nil while it is down) and the pages
// it joined. Safe for concurrent use.
type link struct {
	mu     sync.Mutex
	c      *sioclient.Client
	joined map[string]bool
}

// up records a new connection. A recovered one kept its rooms; a new one has none.
func (l *link) up(c *sioclient.Client, recovered bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c = c
	if !recovered || l.joined == nil {
		l.joined = map[string]bool{}
	}
}

// down records that the connection c ended.
func (l *link) down(c *sioclient.Client) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.c == c {
		l.c = nil
	}
}

func (l *link) current() *sioclient.Client {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.c
}

// emit sends event and decodes its ack; a refusal is an *apiError.
func emit(ctx context.Context, c *sioclient.Client, event string, arg any) error {
	ctx, cancel := context.WithTimeout(ctx, ackWait)
	defer cancel()
	var ack struct {
		OK    bool      `json:"ok"`
		Error *apiError `json:"error"`
	}
	if err := c.Call(ctx, &ack, event, arg); err != nil {
		return err
	}
	if !ack.OK && ack.Error != nil {
		return ack.Error
	}
	return nil
}

// join puts the socket in a room ("join_page" or "join_drive") once per connection.
func (l *link) join(ctx context.Context, event, id string) (*sioclient.Client, error) {
	c := l.current()
	if c == nil {
		return nil, sioclient.ErrClosed
	}
	key := event + ":" + id
	l.mu.Lock()
	done := l.joined[key]
	l.mu.Unlock()
	if done {
		return c, nil
	}
	if err := emit(ctx, c, event, id); err != nil {
		return nil, err
	}
	l.mu.Lock()
	if l.c == c {
		l.joined[key] = true
	}
	l.mu.Unlock()
	return c, nil
}

// status shows the agent's state in pageId to its viewers. It lasts while the socket is in the
// page, so a status is worth nothing while the socket is down: it is then left out.
func (l *link) status(ctx context.Context, pageID string, st map[string]any) error {
	c, err := l.join(ctx, "join_page", pageID)
	if err != nil {
		return err
	}
	st["pageId"] = pageID
	return emit(ctx, c, "agent_status", st)
}

// chunk sends a chunk of m over the socket. It reports false when it could not be sent that way
// (no socket, or the connection was lost before the ack): send it over REST then.
func (l *link) chunk(ctx context.Context, m message, seq int, text string) (bool, error) {
	c := l.current()
	if c == nil {
		return false, nil
	}
	err := emit(ctx, c, "stream_chunk", map[string]any{"messageId": m.ID, "seq": seq, "text": text})
	if code := codeOf(err); err != nil && (code == "" || code == "rate_limited") && ctx.Err() == nil {
		return false, nil // the transport or the pace, not the chunk: REST waits and retries
	}
	return true, err
}

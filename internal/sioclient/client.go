// Package sioclient is a small Socket.IO v5 client over the WebSocket transport, for tests and
// the test kit (app/pagespacetest, which names its types for tests outside this module): connect
// with an auth object, emit with or without ack, receive events with their recovery offsets, and
// reconnect with {pid, offset}. It is not a general-purpose client: no polling, no binary, one
// namespace ("/").
package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/gorilla/websocket"
)

// Event is an event received from the server.
type Event struct {
	Name string
	Args []json.RawMessage // without the recovery offset
	// Offset is the recovery offset the server appended (the eventId of domain events), or "".
	Offset string
}

// Decode unmarshals argument i into v.
func (e Event) Decode(i int, v any) error {
	if i >= len(e.Args) {
		return fmt.Errorf("sioclient: %s has %d arguments", e.Name, len(e.Args))
	}
	return json.Unmarshal(e.Args[i], v)
}

// ConnectError is the server's refusal.
type ConnectError struct {
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *ConnectError) Error() string { return "connect refused: " + e.Message + " " + string(e.Data) }

// Code is data.code of the refusal.
func (e *ConnectError) Code() string {
	var d struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(e.Data, &d)
	return d.Code
}

// Client is one connected socket. Events arrive on Events until the connection ends, when
// Events is closed and Done is closed.
type Client struct {
	ws     *websocket.Conn
	SID    string
	PID    string
	Events chan Event
	Done   chan struct{}

	wmu     sync.Mutex
	mu      sync.Mutex
	nextAck uint64
	acks    map[uint64]chan []json.RawMessage
	offset  string
	reason  string
	closed  bool
	onEvent func(Event)
	onAck   func(event string, args []json.RawMessage)
}

// Options are the settings of DialOptions.
type Options struct {
	Header http.Header // sent with the WebSocket handshake, e.g. Origin or cookies
	// OnEvent, if set, sees every event the server sends, before it is queued on Events (e.g. to
	// validate it against a description). It runs on the read loop and must not block.
	OnEvent func(Event)
	// OnAck, if set, sees every ack with the name of the event it answers, on the goroutine of
	// EmitAck, before EmitAck returns it.
	OnAck func(event string, args []json.RawMessage)
}

// ErrClosed is returned when the connection ended.
var ErrClosed = errors.New("sioclient: connection closed")

// Dial connects to base (http://host:port) with auth (marshalled as the CONNECT payload). header
// may carry Origin or cookies. The returned client has received its CONNECT reply.
func Dial(ctx context.Context, base string, auth any, header http.Header) (*Client, error) {
	return DialOptions(ctx, base, auth, Options{Header: header})
}

// DialOptions is Dial with options.
func DialOptions(ctx context.Context, base string, auth any, opts Options) (*Client, error) {
	u := strings.Replace(base, "http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket"
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u, opts.Header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("sioclient: dial: %w (HTTP %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("sioclient: dial: %w", err)
	}
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	c := &Client{ws: ws, Events: make(chan Event, 4096), Done: make(chan struct{}), acks: map[uint64]chan []json.RawMessage{},
		onEvent: opts.OnEvent, onAck: opts.OnAck}
	if _, _, err := ws.ReadMessage(); err != nil { // the open packet
		ws.Close()
		return nil, fmt.Errorf("sioclient: open: %w", err)
	}
	payload, _ := json.Marshal(auth)
	if auth == nil {
		payload = nil
	}
	if err := c.write("40" + string(payload)); err != nil {
		ws.Close()
		return nil, err
	}
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			ws.Close()
			return nil, fmt.Errorf("sioclient: connect: %w", err)
		}
		s := string(msg)
		switch {
		case s == "2":
			_ = c.write("3")
			continue
		case strings.HasPrefix(s, "40"):
			var r struct{ SID, PID string }
			_ = json.Unmarshal([]byte(s[2:]), &r)
			c.SID, c.PID = r.SID, r.PID
			go c.readLoop()
			return c, nil
		case strings.HasPrefix(s, "44"):
			ws.Close()
			var ce ConnectError
			_ = json.Unmarshal([]byte(s[2:]), &ce)
			return nil, &ce
		default:
			// Events held for after the reply cannot come first; ignore anything else.
		}
	}
}

func (c *Client) write(s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(websocket.TextMessage, []byte(s))
}

func (c *Client) readLoop() {
	defer func() {
		c.mu.Lock()
		c.closed = true
		for id, ch := range c.acks {
			close(ch)
			delete(c.acks, id)
		}
		c.mu.Unlock()
		close(c.Events)
		close(c.Done)
	}()
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			c.setReason("transport close")
			return
		}
		s := string(msg)
		switch {
		case s == "2":
			_ = c.write("3")
		case s == "1":
			c.setReason("transport close")
			return
		case strings.HasPrefix(s, "41"):
			c.setReason("io server disconnect")
			c.ws.Close()
			return
		case strings.HasPrefix(s, "42"):
			var arr []json.RawMessage
			if json.Unmarshal([]byte(s[2:]), &arr) != nil || len(arr) == 0 {
				continue
			}
			var name string
			_ = json.Unmarshal(arr[0], &name)
			ev := Event{Name: name, Args: arr[1:]}
			// The recovery offset is a trailing string argument after an object payload.
			if n := len(ev.Args); n >= 2 && len(ev.Args[n-1]) > 0 && ev.Args[n-1][0] == '"' {
				var off string
				if json.Unmarshal(ev.Args[n-1], &off) == nil {
					if _, err := strconv.ParseInt(off, 10, 64); err == nil {
						ev.Offset, ev.Args = off, ev.Args[:n-1]
						c.mu.Lock()
						c.offset = off
						c.mu.Unlock()
					}
				}
			}
			if c.onEvent != nil {
				c.onEvent(ev)
			}
			c.Events <- ev
		case strings.HasPrefix(s, "43"):
			rest := s[2:]
			i := strings.IndexByte(rest, '[')
			if i <= 0 {
				continue
			}
			id, err := strconv.ParseUint(rest[:i], 10, 64)
			if err != nil {
				continue
			}
			var arr []json.RawMessage
			_ = json.Unmarshal([]byte(rest[i:]), &arr)
			c.mu.Lock()
			ch := c.acks[id]
			delete(c.acks, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- arr
			}
		}
	}
}

func (c *Client) setReason(r string) {
	c.mu.Lock()
	if c.reason == "" {
		c.reason = r
	}
	c.mu.Unlock()
}

// Reason is why the connection ended ("transport close" or "io server disconnect").
func (c *Client) Reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// Offset is the last recovery offset received.
func (c *Client) Offset() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offset
}

// Emit sends an event without ack.
func (c *Client) Emit(event string, args ...any) error {
	b, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return err
	}
	return c.write("42" + string(b))
}

// EmitAck sends an event and waits for its ack's arguments.
func (c *Client) EmitAck(ctx context.Context, event string, args ...any) ([]json.RawMessage, error) {
	b, err := json.Marshal(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	ch := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, ErrClosed
	}
	c.nextAck++
	id := c.nextAck
	c.acks[id] = ch
	c.mu.Unlock()
	if err := c.write("42" + strconv.FormatUint(id, 10) + string(b)); err != nil {
		return nil, err
	}
	select {
	case arr, ok := <-ch:
		if !ok {
			return nil, ErrClosed
		}
		if c.onAck != nil {
			c.onAck(event, arr)
		}
		return arr, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Call emits with ack and decodes the first ack argument into out (may be nil).
func (c *Client) Call(ctx context.Context, out any, event string, args ...any) error {
	arr, err := c.EmitAck(ctx, event, args...)
	if err != nil {
		return err
	}
	if out == nil || len(arr) == 0 {
		return nil
	}
	return json.Unmarshal(arr[0], out)
}

// Close drops the transport abruptly (no DISCONNECT), as a network loss would.
func (c *Client) Close() error { return c.ws.Close() }

// Disconnect sends a Socket.IO DISCONNECT, then closes.
func (c *Client) Disconnect() error {
	_ = c.write("41")
	return c.ws.Close()
}

// Next returns the next event, failing on ctx's end or when the connection ends.
func (c *Client) Next(ctx context.Context) (Event, error) {
	select {
	case ev, ok := <-c.Events:
		if !ok {
			return Event{}, ErrClosed
		}
		return ev, nil
	case <-ctx.Done():
		return Event{}, ctx.Err()
	}
}

// WaitFor returns the next event named name, skipping others (which are returned too, so tests
// can assert nothing unexpected arrived).
func (c *Client) WaitFor(ctx context.Context, name string) (Event, []Event, error) {
	var skipped []Event
	for {
		ev, err := c.Next(ctx)
		if err != nil {
			return ev, skipped, err
		}
		if ev.Name == name {
			return ev, skipped, nil
		}
		skipped = append(skipped, ev)
	}
}

package pagespacetest

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/pagespace/pagespace/app/apispec/apicheck"
	"github.com/pagespace/pagespace/internal/sioclient"
)

// Event is an event a socket received: its name, its arguments (Decode(0, &v) reads the
// payload) and, for domain events, the recovery offset (the payload's eventId).
type Event = sioclient.Event

// Client is the Socket.IO client under a Socket, and what Dial returns: Emit, EmitAck, Call,
// Next, WaitFor, Close (a network loss) and Disconnect. The client lives in an internal package;
// these names are how a test outside this module refers to it.
type Client = sioclient.Client

// ConnectError is the server's refusal of a socket's CONNECT, as Dial returns it (errors.As;
// Code() is the refusal's error code).
type ConnectError = sioclient.ConnectError

// ErrClosed is returned by a Client's calls once its connection has ended.
var ErrClosed = sioclient.ErrClosed

// Socket is a connected Socket.IO client of one user (the socket protocol is docs/realtime.md).
// Its embedded Client offers the lower-level calls (Emit, EmitAck, Next, Close).
type Socket struct {
	*sioclient.Client
	t testing.TB
	// Timeout bounds Await and Call; Socket sets it to 10 s.
	Timeout time.Duration
}

// Socket connects a socket authenticated as u and closes it when the test ends.
func (s *Server) Socket(u User) *Socket {
	s.T.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := s.Dial(ctx, map[string]any{"token": u.Token}, nil)
	if err != nil {
		s.T.Fatalf("pagespacetest: socket of %s: %v", u.Name, err)
	}
	s.T.Cleanup(func() { c.Close() })
	return &Socket{Client: c, t: s.T, Timeout: 10 * time.Second}
}

// Dial opens a socket with any CONNECT payload (auth, e.g. {token, pid, offset} to recover) and
// handshake header, checking what it receives like Socket does; the caller closes it.
func (s *Server) Dial(ctx context.Context, auth any, header http.Header) (*Client, error) {
	return sioclient.DialOptions(ctx, s.URL, auth, socketChecks(s.T, header))
}

// socketChecks are sioclient options that check every event and ack against asyncapi.json,
// failing t on a mismatch, until t's cleanup begins (a socket may outlive its test a moment).
func socketChecks(t testing.TB, header http.Header) sioclient.Options {
	check, err := apicheck.AsyncAPI()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	done := false
	t.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
	})
	report := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil && !done {
			t.Errorf("asyncapi: %v", err)
		}
	}
	return sioclient.Options{
		Header:  header,
		OnEvent: func(ev sioclient.Event) { report(check.Event(ev.Name, ev.Args, ev.Offset)) },
		OnAck:   func(event string, args []json.RawMessage) { report(check.Ack(event, args)) },
	}
}

func (k *Socket) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), k.Timeout)
}

// Call emits event with args and returns its ack (the first ack argument, decoded), failing
// the test when none comes within Timeout. Acks are {"ok":true,...} or {"ok":false,"error":...}.
func (k *Socket) Call(event string, args ...any) map[string]any {
	k.t.Helper()
	ctx, cancel := k.ctx()
	defer cancel()
	var ack map[string]any
	if err := k.Client.Call(ctx, &ack, event, args...); err != nil {
		k.t.Fatalf("pagespacetest: %s: %v", event, err)
	}
	return ack
}

// Join joins the room of a page (to receive its events), failing the test unless the ack is ok.
func (k *Socket) Join(pageID string) {
	k.t.Helper()
	if ack := k.Call("join_page", pageID); ack["ok"] != true {
		k.t.Fatalf("pagespacetest: join_page %s: %v", pageID, ack)
	}
}

// JoinDrive joins the room of a drive, failing the test unless the ack is ok.
func (k *Socket) JoinDrive(driveID string) {
	k.t.Helper()
	if ack := k.Call("join_drive", driveID); ack["ok"] != true {
		k.t.Fatalf("pagespacetest: join_drive %s: %v", driveID, ack)
	}
}

// Await returns the next event named name, skipping others, failing the test when none comes
// within Timeout or the connection ends.
func (k *Socket) Await(name string) Event {
	k.t.Helper()
	ctx, cancel := k.ctx()
	defer cancel()
	ev, _, err := k.WaitFor(ctx, name)
	if err != nil {
		k.t.Fatalf("pagespacetest: waiting for %s: %v", name, err)
	}
	return ev
}

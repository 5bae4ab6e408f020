package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// The receiving side is the same for both servers: a plain gorilla WebSocket per socket and one
// goroutine reading its frames, finding the marker in the raw bytes. Only the handshake differs
// (Socket.IO's CONNECT and join_page for pagespace, a bearer token and a join frame for the
// baseline).

// clock is the run's monotonic time origin; send and receive times are nanoseconds since it.
var clock = time.Now()

func now() int64 { return int64(time.Since(clock)) }

// receiver collects deliveries of every socket.
type receiver struct {
	messages  int
	firsts    atomic.Int64 // first deliveries, all sockets
	frames    atomic.Int64 // every frame received after the handshake
	bytes     atomic.Int64 // their payload bytes
	lastFrame atomic.Int64 // now() of the last frame but pings, for waiting out the join storm
	closed    atomic.Int64 // sockets that ended before we closed them
	wg        sync.WaitGroup
	mu        sync.Mutex
	logs      []*socketLog
	conns     []*websocket.Conn
	stopping  atomic.Bool
}

func newReceiver(messages int) *receiver { return &receiver{messages: messages} }

// start reads ws until it ends; pong answers Engine.IO pings when sio is true.
func (r *receiver) start(ws *websocket.Conn, sio bool) {
	l := newSocketLog(r.messages)
	r.mu.Lock()
	r.logs = append(r.logs, l)
	r.conns = append(r.conns, ws)
	r.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				if !r.stopping.Load() {
					r.closed.Add(1)
				}
				return
			}
			t := now()
			r.frames.Add(1)
			r.bytes.Add(int64(len(msg)))
			if sio && len(msg) == 1 && msg[0] == '2' {
				_ = ws.WriteMessage(websocket.TextMessage, []byte{'3'})
				continue
			}
			r.lastFrame.Store(t) // pings do not count: they never stop
			if seq, sent, ok := parseMarker(msg); ok && l.record(seq, sent, t) {
				r.firsts.Add(1)
			}
		}
	}()
}

// stop closes every socket and waits for the readers; logs are safe to read afterwards.
func (r *receiver) stop() []*socketLog {
	r.stopping.Store(true)
	r.mu.Lock()
	for _, ws := range r.conns {
		_ = ws.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	return r.logs
}

var dialer = &websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 4096, WriteBufferSize: 1024}

// dialPagespace opens a Socket.IO socket with token and joins pageID.
func dialPagespace(ctx context.Context, base, token, pageID string) (*websocket.Conn, error) {
	ws, _, err := dialer.DialContext(ctx, strings.Replace(base, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	fail := func(err error) (*websocket.Conn, error) { ws.Close(); return nil, err }
	if _, _, err := ws.ReadMessage(); err != nil { // Engine.IO open
		return fail(fmt.Errorf("open: %w", err))
	}
	auth, _ := json.Marshal(map[string]string{"token": token})
	if err := ws.WriteMessage(websocket.TextMessage, append([]byte("40"), auth...)); err != nil {
		return fail(err)
	}
	join, _ := json.Marshal([]any{"join_page", pageID})
	// wait reads until a frame with prefix want, answering pings and skipping events.
	wait := func(want string) ([]byte, error) {
		for {
			_, msg, err := ws.ReadMessage()
			if err != nil {
				return nil, err
			}
			switch {
			case string(msg) == "2":
				if err := ws.WriteMessage(websocket.TextMessage, []byte("3")); err != nil {
					return nil, err
				}
			case bytes.HasPrefix(msg, []byte("44")):
				return nil, fmt.Errorf("connect refused: %s", msg[2:])
			case bytes.HasPrefix(msg, []byte(want)):
				return msg, nil
			}
		}
	}
	if _, err := wait("40"); err != nil {
		return fail(fmt.Errorf("connect: %w", err))
	}
	if err := ws.WriteMessage(websocket.TextMessage, append([]byte("421"), join...)); err != nil {
		return fail(err)
	}
	ack, err := wait("431[")
	if err != nil {
		return fail(fmt.Errorf("join_page: %w", err))
	}
	if !bytes.Contains(ack, []byte(`"ok":true`)) {
		return fail(fmt.Errorf("join_page refused: %s", ack))
	}
	return ws, nil
}

// dialBaseline opens a plain WebSocket to the baseline with token and joins pageID.
func dialBaseline(ctx context.Context, base, token, pageID string) (*websocket.Conn, error) {
	h := http.Header{"Authorization": {"Bearer " + token}}
	ws, _, err := dialer.DialContext(ctx, strings.Replace(base, "http", "ws", 1)+"/ws", h)
	if err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { ws.Close() })
	defer stop()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(pageID)); err != nil {
		ws.Close()
		return nil, err
	}
	_, ack, err := ws.ReadMessage()
	if err == nil && !bytes.Contains(ack, []byte(`"joined"`)) {
		err = fmt.Errorf("join refused: %s", ack)
	}
	if err != nil {
		ws.Close()
		return nil, err
	}
	return ws, nil
}

// api is a small JSON client for the REST setup and the posts.
type api struct {
	base   string
	client *http.Client
}

func newAPI(base string, conns int) *api {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	return &api{base: base, client: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

// do sends a JSON request and decodes the answer into out (may be nil); it returns the status.
func (a *api) do(ctx context.Context, method, path, token string, in, out any) (int, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: HTTP %d: %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, err
		}
	}
	return resp.StatusCode, nil
}

type user struct {
	ID    string
	Token string
}

// workspace is what the pagespace run needs: users that are members of a drive with a channel.
type workspace struct {
	owner user
	users []user
	driveID,
	pageID string
	signup time.Duration // mean time of one signup
}

func signup(ctx context.Context, a *api, i int, run string) (user, error) {
	var out struct {
		User        struct{ ID string } `json:"user"`
		AccessToken string              `json:"accessToken"`
	}
	in := map[string]string{"email": fmt.Sprintf("lt%d-%s@loadtest.invalid", i, run), "password": "load-test-password-" + run, "name": fmt.Sprintf("Load %04d", i)}
	if _, err := a.do(ctx, http.MethodPost, "/api/auth/signup", "", in, &out); err != nil {
		return user{}, err
	}
	return user{ID: out.User.ID, Token: out.AccessToken}, nil
}

// setupWorkspace signs up an owner and n users, creates a drive with a CHANNEL page and makes
// every user a member.
func setupWorkspace(ctx context.Context, a *api, n, parallel int, run string) (*workspace, error) {
	w := &workspace{users: make([]user, n)}
	var err error
	start := time.Now()
	if w.owner, err = signup(ctx, a, 0, run); err != nil {
		return nil, err
	}
	var drive, page struct{ ID string }
	if _, err := a.do(ctx, http.MethodPost, "/api/drives", w.owner.Token, map[string]string{"name": "load " + run}, &drive); err != nil {
		return nil, err
	}
	if _, err := a.do(ctx, http.MethodPost, "/api/drives/"+drive.ID+"/pages", w.owner.Token, map[string]string{"title": "load", "type": "CHANNEL"}, &page); err != nil {
		return nil, err
	}
	w.driveID, w.pageID = drive.ID, page.ID
	err = forEach(ctx, n, parallel, func(ctx context.Context, i int) error {
		u, err := signup(ctx, a, i+1, run)
		if err != nil {
			return err
		}
		w.users[i] = u
		_, err = a.do(ctx, http.MethodPost, "/api/drives/"+drive.ID+"/members", w.owner.Token, map[string]string{"userId": u.ID, "role": "MEMBER"}, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	w.signup = time.Since(start) / time.Duration(n+1)
	return w, nil
}

// forEach runs f(0..n-1) on parallel goroutines and returns the first error.
func forEach(ctx context.Context, n, parallel int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(parallel, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(ctx, i); err != nil {
					cancel(fmt.Errorf("item %d: %w", i, err))
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return ctx.Err()
}

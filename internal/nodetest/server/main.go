// Command server is the Socket.IO server the Node compatibility tests (internal/nodetest) run the
// official socket.io-client against. It listens on 127.0.0.1 on a free port, prints the port as
// the first line on stdout, and serves until SIGINT, SIGTERM or the end of its stdin (so that it
// never outlives the test process).
//
// /socket.io/ serves namespace "/" (auth {token:"good"} required) and "/load" (no auth, for the
// load test); /recovery/ serves a second server with connection state recovery on; /fastping/
// a third with a 300 ms ping interval and a 200 ms ping timeout (heartbeat tests, no auth).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pagespace/pagespace/realtime/engineio"
	"github.com/pagespace/pagespace/realtime/socketio"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		stop()
	}()
	if err := run(ctx, log); err != nil {
		log.Error("nodetest server", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, log *slog.Logger) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	tr := &transports{bySID: make(map[string]net.Conn)}
	mainSrv := newMainServer(tr, log)
	recovery := newRecoveryServer(tr, log)
	fastping := newFastPingServer(log)
	mux := http.NewServeMux()
	mux.Handle("/socket.io/", mainSrv)
	mux.Handle("/recovery/", recovery)
	mux.Handle("/fastping/", fastping)
	srv := &http.Server{
		Handler:           tr.wrap(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err = errors.Join(mainSrv.Shutdown(stopCtx), recovery.Shutdown(stopCtx), fastping.Shutdown(stopCtx), srv.Shutdown(stopCtx))
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// connKey keys the TCP connection of a request in its context.
type connKey struct{}

// transports remembers the TCP connection carrying each session's WebSocket, so that the "drop"
// event can cut it the way a network failure would: no close packet, no close frame.
type transports struct {
	mu    sync.Mutex
	bySID map[string]net.Conn
}

// wrap records the connection of every WebSocket request that upgrades a polling session.
func (t *transports) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if sid := q.Get("sid"); sid != "" && q.Get("transport") == "websocket" {
			if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
				t.mu.Lock()
				t.bySID[sid] = c
				t.mu.Unlock()
			}
		}
		next.ServeHTTP(w, r)
	})
}

// remember records the connection of a session opened on WebSocket, read from its handshake
// request while the socket connects (a connected socket no longer holds the request).
func (t *transports) remember(s *socketio.Socket) {
	r := s.Handshake().Request
	if r == nil || r.URL.Query().Get("transport") != "websocket" {
		return
	}
	if c, ok := r.Context().Value(connKey{}).(net.Conn); ok {
		t.mu.Lock()
		t.bySID[s.ConnID()] = c
		t.mu.Unlock()
	}
}

// cut closes the TCP connection under s's WebSocket: the upgrade's, or the handshake's for a
// session opened on WebSocket. It reports false for a session still on long-polling.
func (t *transports) cut(s *socketio.Socket) bool {
	t.mu.Lock()
	c := t.bySID[s.ConnID()]
	t.mu.Unlock()
	if c == nil {
		return false
	}
	_ = c.Close()
	return true
}

func (t *transports) forget(s *socketio.Socket, _ string) {
	t.mu.Lock()
	delete(t.bySID, s.ConnID())
	t.mu.Unlock()
}

// shout is the payload of the "shout" event.
type shout struct {
	Room string `json:"room"`
	Msg  any    `json:"msg"`
}

func newMainServer(tr *transports, log *slog.Logger) *socketio.Server {
	srv := socketio.NewServer(socketio.Config{Logger: log, AckTimeout: 5 * time.Second})
	root := srv.Of("/")
	root.Use(func(_ *socketio.Socket, auth json.RawMessage) error {
		var a struct {
			Token string `json:"token"`
		}
		if len(auth) == 0 || json.Unmarshal(auth, &a) != nil || a.Token != "good" {
			return &socketio.ConnectError{Message: "unauthorized", Data: map[string]string{"code": "invalid_token"}}
		}
		return nil
	})
	root.OnConnect(tr.remember)
	root.OnDisconnect(tr.forget)
	root.On("echo", echo)
	root.On("join", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		var room string
		if err := args.Decode(0, &room); err != nil || room == "" {
			answer(ack, map[string]any{"ok": false})
			return
		}
		s.Join(room)
		answer(ack, map[string]any{"ok": true, "room": room})
	})
	root.On("shout", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		var sh shout
		if err := args.Decode(0, &sh); err != nil || sh.Room == "" {
			answer(ack, map[string]any{"ok": false})
			return
		}
		// Everyone in the room but the sender. The ack goes out after the broadcast is queued.
		_ = s.To(sh.Room).Emit("shout", map[string]any{"from": s.ID(), "msg": sh.Msg})
		answer(ack, map[string]any{"ok": true})
	})
	root.On("ask", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		// A server → client round trip inside a handler: the client's answer is reported back.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		reply, err := s.EmitWithAck(ctx, "question", args.Values()...)
		if err != nil {
			answer(ack, map[string]any{"error": err.Error()})
			return
		}
		answer(ack, map[string]any{"answer": reply.Values()})
	})
	root.On("binary", func(s *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		_ = s.Emit("binary-back", args.Values()...)
		answer(ack, args.Values()...)
	})
	root.On("kick", func(s *socketio.Socket, _ socketio.Args, _ socketio.AckFunc) {
		s.Disconnect(false) // a Socket.IO DISCONNECT: the client must not reconnect
	})
	root.On("drop", func(s *socketio.Socket, _ socketio.Args, ack socketio.AckFunc) {
		if !tr.cut(s) {
			answer(ack, map[string]any{"ok": false, "error": "not on WebSocket"})
		}
	})

	var loadSockets atomic.Int64
	load := srv.Of("/load")
	load.OnConnect(func(*socketio.Socket) { loadSockets.Add(1) })
	load.OnDisconnect(func(*socketio.Socket, string) { loadSockets.Add(-1) })
	load.On("echo", echo)
	load.On("count", func(_ *socketio.Socket, _ socketio.Args, ack socketio.AckFunc) {
		answer(ack, loadSockets.Load())
	})
	return srv
}

func echo(_ *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
	answer(ack, args.Values()...)
}

// answer acknowledges when the client asked for it.
func answer(ack socketio.AckFunc, args ...any) {
	if ack != nil {
		_ = ack(args...)
	}
}

// newRecoveryServer has connection state recovery on: a pid it issued is recovered, and what the
// client sent back is reported in the "session" event that follows every CONNECT.
func newRecoveryServer(tr *transports, log *slog.Logger) *socketio.Server {
	var pids sync.Map
	var seq atomic.Int64
	srv := socketio.NewServer(socketio.Config{
		Logger: log,
		Recovery: &socketio.RecoveryConfig{
			Recover: func(s *socketio.Socket, pid, offset string) bool {
				s.SetData(offset)
				_, known := pids.Load(pid)
				return known
			},
		},
	})
	root := srv.Of("/")
	root.OnConnect(tr.remember)
	root.OnDisconnect(tr.forget)
	root.OnConnect(func(s *socketio.Socket) {
		pids.Store(s.PID(), true)
		offset := s.Data()
		_ = s.Emit("session", map[string]any{
			"pid":       s.PID(),
			"recovered": s.Recovered(),
			"offset":    offset, // the offset the client sent back, nil on a first connection
			"auth":      s.Handshake().Auth,
		})
		_ = s.EmitWithOffset("news", "offset-"+strconv.FormatInt(seq.Add(1), 10), "hello")
	})
	root.On("plain", func(s *socketio.Socket, args socketio.Args, _ socketio.AckFunc) {
		// Not a recoverable event, yet its last argument is a string.
		_ = s.Emit("plain-back", args.Values()...)
	})
	root.On("drop", func(s *socketio.Socket, _ socketio.Args, _ socketio.AckFunc) { tr.cut(s) })
	return srv
}

// newFastPingServer pings every 300 ms and gives up on a client after 200 ms more, as the
// published protocol suites' reference server does, so that heartbeat tests stay short.
func newFastPingServer(log *slog.Logger) *socketio.Server {
	srv := socketio.NewServer(socketio.Config{
		Logger: log,
		Engine: engineio.Config{PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond},
	})
	srv.Of("/").On("echo", echo)
	return srv
}

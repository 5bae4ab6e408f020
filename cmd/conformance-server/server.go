package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/pagespace/pagespace/realtime/engineio"
	"github.com/pagespace/pagespace/realtime/socketio"
)

// options are what the command line may change.
type options struct {
	// engineIO mounts the bare Engine.IO echo server on /engine.io/.
	engineIO bool
	logger   *slog.Logger
}

// reference is the server the published test suites (socketio/socket.io-protocol and
// socketio/engine.io-protocol, their test-suite folders) expect on localhost:3000.
type reference struct {
	sio *socketio.Server
	eio *engineio.Server // nil without -engineio
	mux *http.ServeMux
}

// engineConfig holds the settings both suites hard-code: a 300 ms ping interval, a 200 ms ping
// timeout, a 1 MB payload limit, and CORS for any origin (the suites may run in a browser).
func engineConfig(log *slog.Logger) engineio.Config {
	return engineio.Config{
		PingInterval: 300 * time.Millisecond,
		PingTimeout:  200 * time.Millisecond,
		MaxPayload:   1_000_000,
		CheckOrigin:  func(*http.Request) bool { return true },
		CORSOrigin:   func(string) bool { return true },
		Logger:       log,
	}
}

func newReference(opts options) *reference {
	log := opts.logger
	if log == nil {
		log = slog.Default()
	}
	r := &reference{mux: http.NewServeMux()}
	r.sio = socketio.NewServer(socketio.Config{
		Engine:         engineConfig(log),
		ConnectTimeout: time.Second,
		Logger:         log,
		// Recovery stays off: the suite expects a CONNECT reply that holds only the sid.
	})
	root := r.sio.Of("/")
	root.OnConnect(emitAuth)
	root.On("message", func(s *socketio.Socket, args socketio.Args, _ socketio.AckFunc) {
		_ = s.Emit("message-back", args.Values()...)
	})
	root.On("message-with-ack", func(_ *socketio.Socket, args socketio.Args, ack socketio.AckFunc) {
		if ack != nil {
			_ = ack(args.Values()...)
		}
	})
	r.sio.Of("/custom").OnConnect(emitAuth)
	r.mux.Handle("/socket.io/", r.sio)

	if opts.engineIO {
		r.eio = engineio.NewServer(engineConfig(log), engineio.EchoHandler{})
		r.mux.Handle("/engine.io/", r.eio)
	}
	return r
}

// emitAuth sends the handshake auth back as the "auth" event, {} when the client sent none.
func emitAuth(s *socketio.Socket) {
	auth := s.Handshake().Auth
	if len(auth) == 0 {
		auth = json.RawMessage(`{}`)
	}
	_ = s.Emit("auth", auth)
}

func (r *reference) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

// Shutdown cuts every session of both servers and waits for their handlers, or for ctx.
func (r *reference) Shutdown(ctx context.Context) error {
	err := r.sio.Shutdown(ctx)
	if r.eio != nil {
		err = errors.Join(err, r.eio.Shutdown(ctx))
	}
	return err
}

// Command conformance-server serves what the published Socket.IO and Engine.IO protocol test
// suites expect of a reference server, so that they can run against this repository's engine:
//
//	go run ./cmd/conformance-server          # then, in a copy of a suite's test-suite folder:
//	                                         # npm ci && npx mocha test-suite.js
//
// scripts/conformance does all of it for both suites (from ../shared/conformance) and fails on
// any failing test; scripts/test runs it.
//
// Socket.IO is served on /socket.io/ (namespaces / and /custom) and the bare Engine.IO echo
// server on /engine.io/ (-engineio=false leaves it out).
package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	addr := flag.String("addr", "localhost:3000", "listen address")
	withEngineIO := flag.Bool("engineio", true, "serve the Engine.IO echo server on /engine.io/")
	flag.Parse()

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Error("conformance server", "err", err)
		os.Exit(1)
	}
	if err := run(ctx, ln, options{engineIO: *withEngineIO, logger: log}); err != nil {
		log.Error("conformance server", "err", err)
		os.Exit(1)
	}
}

// run serves on ln until ctx ends, then stops gracefully.
func run(ctx context.Context, ln net.Listener, opts options) error {
	if opts.logger == nil {
		opts.logger = slog.Default()
	}
	ref := newReference(opts)
	srv := &http.Server{Handler: ref, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	opts.logger.Info("serving", "addr", ln.Addr().String(), "engineio", opts.engineIO)

	select {
	case err := <-served:
		_ = ref.Shutdown(context.Background())
		return err
	case <-ctx.Done():
	}
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// Sessions first: that ends pending long-polling GETs, which http.Server.Shutdown would
	// otherwise wait for.
	err := errors.Join(ref.Shutdown(stopCtx), srv.Shutdown(stopCtx))
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

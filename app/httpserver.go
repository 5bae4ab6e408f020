package app

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// contentSecurityPolicy allows the pages' own scripts, styles and images from this origin only:
// no inline script or style, no plugins, no <base>, no framing, forms post back here only.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; object-src 'none'; " +
	"base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// securityHeaders sets the browser hardening headers on every response (pages, API, errors and
// the socket endpoint alike), before anything else writes, so that no route can forget them.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}

// bodyReadTimeout bounds how long a request's body may take to arrive. It sets a read deadline on
// the connection when the handler starts and clears it once the body has been read to its end,
// so that only the upload is timed: not the handler's own work, not a long-poll GET waiting for
// its next packet, not a WebSocket after the upgrade. Requests without a body (every long-poll
// GET and every WebSocket handshake) get no deadline at all. A body that stops arriving fails
// its read with os.ErrDeadlineExceeded (answered 408 by modules.Bind); net/http then closes the
// connection rather than reuse it. http.Server.ReadTimeout cannot do this: its deadline covers
// the whole request and stays on the connection while the handler runs.
func bodyReadTimeout(d time.Duration, next http.Handler) http.Handler {
	if d <= 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		if err := rc.SetReadDeadline(time.Now().Add(d)); err != nil {
			next.ServeHTTP(w, r) // a writer without deadlines (tests' recorders)
			return
		}
		r.Body = &timedBody{ReadCloser: r.Body, rc: rc}
		next.ServeHTTP(w, r)
	})
}

// timedBody clears the connection's read deadline when the body has been read to its end.
type timedBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	once sync.Once
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if errors.Is(err, io.EOF) {
		b.once.Do(func() { _ = b.rc.SetReadDeadline(time.Time{}) })
	}
	return n, err
}

// newServer is the public server: headers within ReadHeaderTimeout, bodies within
// ReadBodyTimeout (bodyReadTimeout), idle keep-alive connections closed after IdleTimeout.
// There is no WriteTimeout: long-polls and WebSockets write long after the request started.
func (a *App) newServer() *http.Server {
	return &http.Server{
		Handler:           a.Handler(),
		ReadHeaderTimeout: a.cfg.ReadHeaderTimeout,
		IdleTimeout:       a.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
}

// Package pgbus links several pagespace processes on one PostgreSQL database: every commit that
// writes events sends NOTIFY with its last event id (see eventlog.NotifyChannel), and Listen
// hands those ids to the local broker, whose dispatcher then reads the events from the log, in
// order. The log stays the source of truth; a notification only says "read up to here".
package pgbus

import (
	"context"
	"log/slog"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// Listen holds a connection that LISTENs on the event channel and calls notify with each
// committed id until ctx ends. After every (re)connect it reports the newest id in the log, so
// that nothing committed while it was not listening is missed. It returns when ctx ends.
func Listen(ctx context.Context, url string, notify func(upTo int64), log *slog.Logger) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, notify)
		if ctx.Err() != nil {
			return
		}
		log.Warn("realtime bus: reconnecting", "err", err.Error(), "in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func listenOnce(ctx context.Context, url string, notify func(int64)) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+eventlog.NotifyChannel); err != nil {
		return err
	}
	var latest *int64
	if err := conn.QueryRow(ctx, "SELECT MAX(id) FROM events").Scan(&latest); err != nil {
		return err
	}
	if latest != nil {
		notify(*latest)
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil && id > 0 {
			notify(id)
		}
	}
}

// Package pgbus links several pagespace processes on one PostgreSQL database: every commit that
// writes events sends NOTIFY with its last event id (see eventlog.NotifyChannel), and Listen
// hands those ids to the local broker, whose dispatcher then reads the events from the log, in
// order. The log stays the source of truth; a notification only says "read up to here".
//
// Ephemeral messages (presence, typing, cursors) travel on a channel of their own,
// EphemeralChannel: Sender NOTIFYs them and Listen hands them over as they come. They are not
// stored anywhere, so after a reconnect Listen calls Handlers.Connected for the broker to ask
// the others to share their state again.
package pgbus

import (
	"context"
	"database/sql"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pagespace/pagespace/modules/eventlog"
)

// EphemeralChannel is the NOTIFY channel of the messages that do not enter the event log.
const EphemeralChannel = "pagespace_ephemeral"

// Handlers receive what the listener hears. Each is called from the listening goroutine, in the
// order the notifications arrive; nil handlers are skipped.
type Handlers struct {
	Events func(upTo int64) // a commit wrote events up to this id
	// Own, when set, is called instead of Events for the commits of this process: those whose
	// notification carries Origin (eventlog.Log.SetOrigin).
	Own       func(upTo int64)
	Origin    string
	Ephemeral func(msg string) // a message on EphemeralChannel
	Connected func()           // after every (re)connect, once listening
	Log       *slog.Logger     // reconnects are logged here
}

// EventLog is where Listen reads the newest event id (eventlog.Log).
type EventLog interface {
	Latest(ctx context.Context) (int64, error)
}

// Listen holds a connection that LISTENs on both channels until ctx ends. After every
// (re)connect it reports the newest id in log, read once LISTEN holds, so that nothing committed
// while it was not listening is missed, then calls Connected. It returns when ctx ends.
func Listen(ctx context.Context, url string, log EventLog, h Handlers) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := listenOnce(ctx, url, log, h)
		if ctx.Err() != nil {
			return
		}
		if h.Log != nil {
			h.Log.Warn("realtime bus: reconnecting", "err", err.Error(), "in", backoff.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func listenOnce(ctx context.Context, url string, log EventLog, h Handlers) error {
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
	if h.Ephemeral != nil {
		if _, err := conn.Exec(ctx, "LISTEN "+EphemeralChannel); err != nil {
			return err
		}
	}
	latest, err := log.Latest(ctx)
	if err != nil {
		return err
	}
	if latest > 0 && h.Events != nil {
		h.Events(latest)
	}
	if h.Connected != nil {
		h.Connected()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		switch n.Channel {
		case EphemeralChannel:
			if h.Ephemeral != nil {
				h.Ephemeral(n.Payload)
			}
		default:
			id, origin, ok := eventlog.ParseNotification(n.Payload)
			switch {
			case !ok:
			case origin != "" && origin == h.Origin && h.Own != nil:
				h.Own(id)
			case h.Events != nil:
				h.Events(id)
			}
		}
	}
}

// Sender NOTIFYs ephemeral messages through a database pool. Safe for concurrent use, though
// only messages sent one after another from one goroutine arrive in that order.
type Sender struct{ DB *sql.DB }

// Send NOTIFYs msg (at most 7,999 bytes) on EphemeralChannel.
func (s Sender) Send(ctx context.Context, msg string) error {
	_, err := s.DB.ExecContext(ctx, "SELECT pg_notify($1, $2)", EphemeralChannel, msg)
	return err
}

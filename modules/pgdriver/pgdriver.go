// Package pgdriver is the database/sql driver pagespace opens PostgreSQL with: pgx's (stdlib),
// whose transactions can end with their last statement.
//
// A query run on a transaction with CommitWith as its first argument travels in one message
// with COMMIT (PostgreSQL's simple query protocol, in which pgx quotes the arguments into the
// text). Once its rows are read and closed without error the transaction is committed, and
// the transaction's own Commit then sends nothing: a write saves the round trip of COMMIT, and
// whatever the statement locks is released without waiting for this process to hear its reply.
package pgdriver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// CommitWith, as the first argument of a query on a transaction opened through this package,
// sends COMMIT with the query (see the package comment). The query's other arguments follow it;
// its placeholders are $1, $2… counting from the first of them.
type CommitWith struct{}

// ErrCommitUnconfirmed is Commit's error when a CommitWith query ended the transaction but did
// not report success: its rows were not closed, or closing them failed.
var ErrCommitUnconfirmed = errors.New("pgdriver: the transaction ended with its last statement, which did not report a commit")

// Open returns a pool of connections to the PostgreSQL database at url (a URL or key=value
// string, as pgx reads it).
func Open(url string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pgdriver: %w", err)
	}
	return OpenConfig(cfg), nil
}

// OpenConfig is Open with a pgx configuration (a tracer, for instance).
func OpenConfig(cfg *pgx.ConnConfig) *sql.DB {
	return sql.OpenDB(connector{stdlib.GetConnector(*cfg)})
}

type connector struct{ driver.Connector }

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	sc, ok := dc.(*stdlib.Conn)
	if !ok {
		_ = dc.Close()
		return nil, fmt.Errorf("pgdriver: pgx's connector gave a %T", dc)
	}
	return &conn{Conn: sc}, nil
}

// conn is pgx's connection (whose methods it has), with transactions that can end with their
// last statement. database/sql uses a connection from one goroutine at a time.
type conn struct {
	*stdlib.Conn
	tx *tx // the transaction open on the connection, if any
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	inner, err := c.Conn.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	c.tx = &tx{c: c, inner: inner}
	return c.tx, nil
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		return c.Conn.QueryContext(ctx, query, args)
	}
	if _, ending := args[0].Value.(CommitWith); !ending {
		return c.Conn.QueryContext(ctx, query, args)
	}
	t := c.tx
	if t == nil || t.ending {
		return nil, errors.New("pgdriver: CommitWith outside a transaction, or twice in one")
	}
	t.ending = true
	simple := make([]driver.NamedValue, len(args))
	copy(simple, args)
	simple[0].Value = pgx.QueryExecModeSimpleProtocol
	rows, err := c.Conn.QueryContext(ctx, query+"; COMMIT", simple)
	if err != nil {
		return nil, err
	}
	return &endingRows{Rows: rows.(*stdlib.Rows), t: t}, nil
}

// open reports whether the server still holds a transaction on the connection (in progress or
// failed).
func (c *conn) open() bool { return c.Conn.Conn().PgConn().TxStatus() != 'I' }

// tx is a transaction of conn.
type tx struct {
	c         *conn
	inner     driver.Tx
	ending    bool // a CommitWith query was sent
	committed bool // and its rows closed without error
}

// Commit sends COMMIT, unless a CommitWith query ended the transaction: then it only reports
// how that went.
func (t *tx) Commit() error {
	t.c.tx = nil
	switch {
	case !t.ending || t.c.open():
		// Still open (a CommitWith statement that failed leaves it failed; COMMIT then rolls
		// it back, and pgx reports that).
		return t.inner.Commit()
	case t.committed:
		return nil
	default:
		return ErrCommitUnconfirmed
	}
}

// Rollback sends ROLLBACK while the server holds the transaction. After a CommitWith query that
// committed there is nothing left to roll back.
func (t *tx) Rollback() error {
	t.c.tx = nil
	if t.ending && !t.c.open() {
		return nil
	}
	return t.inner.Rollback()
}

// endingRows are the rows of a CommitWith query: closing them without error confirms the commit.
type endingRows struct {
	*stdlib.Rows
	t *tx
}

func (r *endingRows) Close() error {
	err := r.Rows.Close()
	r.t.committed = err == nil && !r.t.c.open()
	return err
}

// Package pgdriver is the database/sql driver pagespace opens PostgreSQL with: pgx's (stdlib),
// whose transactions begin with their first statement and can end with their last.
//
// A transaction with default options sends no BEGIN of its own: BEGIN travels with the first
// statement when that is an Exec (both in one message, PostgreSQL's simple query protocol, in
// which pgx quotes the arguments into the text), and on its own before a first query. A write
// whose first statement takes a lock saves the round trip of BEGIN. (So a connection that died
// while idle in the pool is found at the first statement, which then fails, instead of at
// BEGIN, which database/sql retries on another connection; the pool pings a connection idle for
// more than a second before lending it, which finds most of them.)
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

// Opened reports whether db was opened by this package (its transactions then begin with their
// first statement and may end with their last).
func Opened(db *sql.DB) bool {
	_, ok := db.Driver().(ownDriver)
	return ok
}

type connector struct{ driver.Connector }

// ownDriver is pgx's driver, marked as this package's (Opened).
type ownDriver struct{ driver.Driver }

func (c connector) Driver() driver.Driver { return ownDriver{c.Connector.Driver()} }

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

// conn is pgx's connection (whose methods it has), with transactions that begin with their first
// statement and can end with their last. database/sql uses a connection from one goroutine at a
// time.
type conn struct {
	*stdlib.Conn
	tx *tx // the transaction open on the connection, if any
}

func (c *conn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if c.Conn.Conn().IsClosed() {
		return nil, driver.ErrBadConn
	}
	if sql.IsolationLevel(opts.Isolation) != sql.LevelDefault || opts.ReadOnly {
		inner, err := c.Conn.BeginTx(ctx, opts) // pgx writes the options into its BEGIN
		if err != nil {
			return nil, err
		}
		c.tx = &tx{c: c, ctx: ctx, inner: inner}
		return c.tx, nil
	}
	c.tx = &tx{c: c, ctx: ctx, pending: true}
	return c.tx, nil
}

// begin sends a pending BEGIN on its own, before a statement that cannot carry it.
func (c *conn) begin(ctx context.Context) error {
	if c.tx == nil || !c.tx.pending {
		return nil
	}
	_, err := c.Conn.ExecContext(ctx, "BEGIN", nil)
	c.tx.began()
	return err
}

// simple is args run in the simple query protocol: pgx's option first.
func simple(args []driver.NamedValue) []driver.NamedValue {
	out := make([]driver.NamedValue, 1+len(args))
	out[0].Value = pgx.QueryExecModeSimpleProtocol
	copy(out[1:], args)
	return out
}

func (c *conn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if c.tx == nil || !c.tx.pending {
		return c.Conn.ExecContext(ctx, query, args)
	}
	res, err := c.Conn.ExecContext(ctx, "BEGIN; "+query, simple(args))
	c.tx.began()
	return res, err
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.begin(ctx); err != nil {
		return nil, err
	}
	return c.Conn.PrepareContext(ctx, query)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if err := c.begin(ctx); err != nil {
		return nil, err
	}
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
	rows, err := c.Conn.QueryContext(ctx, query+"; COMMIT", simple(args[1:]))
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
	ctx       context.Context // BeginTx's, for COMMIT and ROLLBACK (as pgx's own)
	inner     driver.Tx       // pgx's, for a transaction with options; nil when this package sends BEGIN
	pending   bool            // BEGIN is not sent yet
	ending    bool            // a CommitWith query was sent
	committed bool            // and its rows closed without error
}

// began records whether a BEGIN just sent took effect: the server now holds the transaction (in
// progress, or failed by the statement that carried BEGIN). A BEGIN that never reached the server
// (its statement failed before it was sent) stays pending, so that no later statement runs
// outside the transaction.
func (t *tx) began() { t.pending = !t.c.open() }

// Commit sends COMMIT, unless nothing was sent (BEGIN still pending) or a CommitWith query ended
// the transaction: then it only reports how that went.
func (t *tx) Commit() error {
	t.c.tx = nil
	switch {
	case t.pending:
		return nil
	case !t.ending || t.c.open():
		// Still open (a CommitWith statement that failed leaves it failed; COMMIT then rolls
		// it back, and that is reported).
		return t.end("COMMIT")
	case t.committed:
		return nil
	default:
		return ErrCommitUnconfirmed
	}
}

// Rollback sends ROLLBACK while the server holds the transaction. Before BEGIN was sent, or
// after a CommitWith query that committed, there is nothing to roll back.
func (t *tx) Rollback() error {
	t.c.tx = nil
	if t.pending || t.ending && !t.c.open() {
		return nil
	}
	return t.end("ROLLBACK")
}

// end sends COMMIT or ROLLBACK, as pgx's transaction does: a COMMIT the server answers with
// ROLLBACK (the transaction had failed) is pgx.ErrTxCommitRollback, and a connection whose end
// failed is left to be discarded (database/sql's next ResetSession finds it still in a
// transaction, or closed).
func (t *tx) end(statement string) error {
	if t.inner != nil {
		if statement == "COMMIT" {
			return t.inner.Commit()
		}
		return t.inner.Rollback()
	}
	tag, err := t.c.Conn.Conn().Exec(t.ctx, statement)
	if err != nil {
		return err
	}
	if statement == "COMMIT" && tag.String() == "ROLLBACK" {
		return pgx.ErrTxCommitRollback
	}
	return nil
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

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
//
// An Exec run on a transaction with Defer as its first argument is held back and sent with the
// transaction's next statement, or its COMMIT, in one message (a pipeline of PostgreSQL's
// extended query protocol: each statement still runs on its own, in order, with its own
// snapshot). A write that takes a lock and then checks what the lock guards sends both at
// once.
package pgdriver

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
)

// CommitWith, as the first argument of a query on a transaction opened through this package,
// sends COMMIT with the query (see the package comment). The query's other arguments follow it;
// its placeholders are $1, $2… counting from the first of them.
type CommitWith struct{}

// Defer, as the first argument of an Exec on a transaction opened through this package, holds
// the statement back until the transaction's next statement, or its commit, and sends them in one
// message (see the package comment). The Exec returns at once and reports no rows; an error of
// the statement is returned by the one that sent it (and a transaction rolled back before then
// never sends it). The Exec's other arguments follow Defer; its placeholders are $1, $2… counting
// from the first of them.
type Defer struct{}

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
	if len(args) > 0 {
		if _, ok := args[0].Value.(Defer); ok {
			if c.tx == nil || c.tx.ending {
				return nil, errors.New("pgdriver: Defer outside a transaction, or after its end")
			}
			c.tx.deferred = append(c.tx.deferred, statement{query, values(args[1:])})
			return driver.RowsAffected(0), nil
		}
	}
	if c.tx != nil && len(c.tx.deferred) > 0 {
		br, err := c.flush(ctx, statement{query, values(args)})
		if err != nil {
			return nil, err
		}
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, err
		}
		return driver.RowsAffected(tag.RowsAffected()), nil
	}
	if c.tx == nil || !c.tx.pending {
		return c.Conn.ExecContext(ctx, query, args)
	}
	res, err := c.Conn.ExecContext(ctx, "BEGIN; "+query, simple(args))
	c.tx.began()
	return res, err
}

func (c *conn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	if err := c.sendHeld(ctx); err != nil {
		return nil, err
	}
	return c.Conn.PrepareContext(ctx, query)
}

func (c *conn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	ending := false
	if len(args) > 0 {
		_, ending = args[0].Value.(CommitWith)
	}
	if ending {
		t := c.tx
		if t == nil || t.ending {
			return nil, errors.New("pgdriver: CommitWith outside a transaction, or twice in one")
		}
		t.ending = true
		args = args[1:]
	}
	if c.tx != nil && len(c.tx.deferred) > 0 {
		stmts := []statement{{query, values(args)}}
		if ending {
			stmts = append(stmts, statement{sql: "COMMIT"})
		}
		br, err := c.flush(ctx, stmts...)
		if err != nil {
			return nil, err
		}
		return newBatchRows(c, br, ending)
	}
	if err := c.begin(ctx); err != nil {
		return nil, err
	}
	if !ending {
		return c.Conn.QueryContext(ctx, query, args)
	}
	rows, err := c.Conn.QueryContext(ctx, query+"; COMMIT", simple(args))
	if err != nil {
		return nil, err
	}
	return &endingRows{Rows: rows.(*stdlib.Rows), t: c.tx}, nil
}

// statement is a statement of a batch.
type statement struct {
	sql  string
	args []any
}

func values(args []driver.NamedValue) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a.Value
	}
	return out
}

// flush sends, in one message, a pending BEGIN, the deferred statements and then more, and reads
// the results of BEGIN and of the deferred statements; the results of more are the caller's to
// read, and the batch to close. On an error the batch is closed.
func (c *conn) flush(ctx context.Context, more ...statement) (pgx.BatchResults, error) {
	t := c.tx
	var b pgx.Batch
	if t.pending {
		b.Queue("BEGIN")
	}
	for _, s := range t.deferred {
		b.Queue(s.sql, s.args...)
	}
	for _, s := range more {
		b.Queue(s.sql, s.args...)
	}
	held := len(t.deferred)
	t.deferred = nil
	br := c.Conn.Conn().SendBatch(ctx, &b)
	var err error
	if t.pending {
		// The server's transaction status is known only at the batch's end; BEGIN's own answer
		// tells whether it ran (a batch whose arguments pgx cannot encode is never sent).
		if _, err = br.Exec(); err == nil {
			t.pending = false
		}
	}
	for i := 0; i < held && err == nil; i++ {
		_, err = br.Exec()
	}
	if err != nil {
		_ = br.Close()
		return nil, err
	}
	return br, nil
}

// sendHeld sends what the transaction holds back (a pending BEGIN, deferred statements), before
// a statement that cannot carry it.
func (c *conn) sendHeld(ctx context.Context) error {
	if c.tx == nil || len(c.tx.deferred) == 0 {
		return c.begin(ctx)
	}
	br, err := c.flush(ctx)
	if err != nil {
		return err
	}
	return br.Close()
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
	deferred  []statement     // Exec statements held back (Defer)
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
	if len(t.deferred) > 0 {
		br, err := t.c.flush(t.ctx, statement{sql: "COMMIT"})
		t.c.tx = nil
		if err != nil {
			return err
		}
		tag, err := br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == nil && tag.String() == "ROLLBACK" {
			err = pgx.ErrTxCommitRollback
		}
		return err
	}
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
// after a CommitWith query that committed, there is nothing to roll back. Deferred statements
// are dropped unsent.
func (t *tx) Rollback() error {
	t.c.tx = nil
	t.deferred = nil
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

// batchRows are the rows of a query sent in a batch (flush), followed, when ending, by COMMIT:
// closing them reads COMMIT's answer and closes the batch. Values are converted as pgx's
// database/sql driver converts them.
type batchRows struct {
	c       *conn
	br      pgx.BatchResults
	rows    pgx.Rows
	ending  bool
	first   bool // the first row is read already (to know the columns), and more tells if there is one
	more    bool
	convert []func(src []byte) (driver.Value, error)
	closed  bool
}

func newBatchRows(c *conn, br pgx.BatchResults, ending bool) (driver.Rows, error) {
	rows, err := br.Query()
	r := &batchRows{c: c, br: br, rows: rows, ending: ending, first: true}
	if err == nil {
		r.more = rows.Next()
		err = rows.Err()
	}
	if err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

func (r *batchRows) Columns() []string {
	fields := r.rows.FieldDescriptions()
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = f.Name
	}
	return out
}

func (r *batchRows) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.rows.Close()
	err := r.rows.Err()
	var tag pgconn.CommandTag
	if r.ending && err == nil {
		tag, err = r.br.Exec()
	}
	if cerr := r.br.Close(); err == nil {
		err = cerr
	}
	if t := r.c.tx; r.ending && t != nil {
		// The transaction status is the server's once the batch is closed.
		t.committed = err == nil && tag.String() == "COMMIT" && !r.c.open()
	}
	return err
}

func (r *batchRows) Next(dest []driver.Value) error {
	more := r.more
	if r.first {
		r.first = false
	} else {
		more = r.rows.Next()
	}
	if !more {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	if r.convert == nil {
		r.convert = converters(r.c.Conn.Conn().TypeMap(), r.rows.FieldDescriptions())
	}
	for i, raw := range r.rows.RawValues() {
		if raw == nil {
			dest[i] = nil
			continue
		}
		v, err := r.convert[i](raw)
		if err != nil {
			return fmt.Errorf("pgdriver: column %d: %w", i, err)
		}
		dest[i] = v
	}
	return nil
}

// converters turn the raw values of fields into the values pgx's database/sql driver gives:
// bool, []byte (bytea, json), float64, int64, time.Time, and string for the rest.
func converters(m *pgtype.Map, fields []pgconn.FieldDescription) []func([]byte) (driver.Value, error) {
	out := make([]func([]byte) (driver.Value, error), len(fields))
	for i, f := range fields {
		oid, format := f.DataTypeOID, f.Format
		switch oid {
		case pgtype.BoolOID:
			out[i] = scanAs[bool](m, oid, format, func(v bool) driver.Value { return v })
		case pgtype.ByteaOID, pgtype.JSONOID, pgtype.JSONBOID:
			out[i] = scanAs[[]byte](m, oid, format, func(v []byte) driver.Value { return v })
		case pgtype.Float4OID, pgtype.Float8OID:
			out[i] = scanAs[float64](m, oid, format, func(v float64) driver.Value { return v })
		case pgtype.Int2OID, pgtype.Int4OID, pgtype.Int8OID:
			out[i] = scanAs[int64](m, oid, format, func(v int64) driver.Value { return v })
		case pgtype.TimestamptzOID:
			out[i] = valuer[pgtype.Timestamptz](m, oid, format)
		case pgtype.TimestampOID:
			out[i] = valuer[pgtype.Timestamp](m, oid, format)
		case pgtype.DateOID:
			out[i] = valuer[pgtype.Date](m, oid, format)
		default:
			out[i] = asText(m, oid, format)
		}
	}
	return out
}

// valuer is a converter for the pgtype types whose driver.Value pgx's driver gives.
func valuer[T any, P interface {
	*T
	driver.Valuer
}](m *pgtype.Map, oid uint32, format int16) func([]byte) (driver.Value, error) {
	var d T
	plan := m.PlanScan(oid, format, &d)
	return func(src []byte) (driver.Value, error) {
		if err := plan.Scan(src, &d); err != nil {
			return nil, err
		}
		return P(&d).Value()
	}
}

// asText is a converter to the value's text, as PostgreSQL writes it (pgx's driver asks for
// these columns in text; a batch may have them in binary).
func asText(m *pgtype.Map, oid uint32, format int16) func([]byte) (driver.Value, error) {
	typ, known := m.TypeForOID(oid)
	if format == pgtype.TextFormatCode || !known {
		return scanAs[string](m, oid, format, func(v string) driver.Value { return v })
	}
	return func(src []byte) (driver.Value, error) {
		v, err := typ.Codec.DecodeValue(m, oid, format, src)
		if err != nil {
			return nil, err
		}
		text, err := m.Encode(oid, pgtype.TextFormatCode, v, nil)
		return string(text), err
	}
}

// scanAs is a converter that scans into a T with pgx's plan for the column, then maps it.
func scanAs[T any](m *pgtype.Map, oid uint32, format int16, value func(T) driver.Value) func([]byte) (driver.Value, error) {
	var d T
	plan := m.PlanScan(oid, format, &d)
	return func(src []byte) (driver.Value, error) {
		if err := plan.Scan(src, &d); err != nil {
			return nil, err
		}
		return value(d), nil
	}
}

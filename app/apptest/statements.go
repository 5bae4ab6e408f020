package apptest

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/pagespace/pagespace/modules/pgdriver"
	"gorm.io/gorm"
)

// Statements records every round trip that a counting handle (see CountStatements) makes to
// the database: begin, each statement, commit and rollback, as pgdriver sends them on
// PostgreSQL: BEGIN with a first statement that is an Exec (one entry "BEGIN; <statement>"),
// nothing for a transaction that sent nothing, and no commit or rollback after a statement that
// carried its COMMIT (pgdriver.CommitWith); a statement held back (pgdriver.Defer) is one entry
// with the statement that sent it ("<held>; <statement>").
// It is safe for concurrent use.
type Statements struct {
	mu    sync.Mutex
	list  []string
	gated bool // Instrument: record only during During
	on    bool
}

// Reset forgets what was recorded so far.
func (s *Statements) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = nil
}

// List returns what was recorded, in order: the SQL of each statement, or BEGIN, COMMIT,
// ROLLBACK.
func (s *Statements) List() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.list...)
}

// String is the list, one round trip per line, for failure messages.
func (s *Statements) String() string { return strings.Join(s.List(), "\n") }

func (s *Statements) add(q string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gated && !s.on {
		return
	}
	s.list = append(s.list, strings.Join(strings.Fields(q), " "))
}

// Instrument makes the server's own handle record its round trips into s, but only while a
// function given to During runs. Use it as app.Config.InstrumentDB, which runs before the handle is
// used: Instrument(db) replaces its connection pool with a recording one.
func (s *Statements) Instrument(db *gorm.DB) {
	inner, ok := db.Statement.ConnPool.(*sql.DB)
	if !ok {
		panic(fmt.Sprintf("apptest: instrument: the connection pool is a %T, not a *sql.DB", db.Statement.ConnPool))
	}
	s.mu.Lock()
	s.gated = true
	s.mu.Unlock()
	pool := newCountingDB(inner, s)
	db.Config.ConnPool = pool
	db.Statement.ConnPool = pool
}

// During returns the round trips recorded (see Instrument) while fn ran.
func (s *Statements) During(fn func()) []string {
	s.mu.Lock()
	s.on, s.list = true, nil
	s.mu.Unlock()
	fn()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = false
	return append([]string(nil), s.list...)
}

// CountStatements returns a handle on db's connections that records in the returned Statements
// every round trip made through it (and through the transactions it begins). The handle is a
// new session: db itself, and what the server does with it, is not counted.
func CountStatements(t testing.TB, db *gorm.DB) (*gorm.DB, *Statements) {
	t.Helper()
	inner, ok := db.Statement.ConnPool.(*sql.DB)
	if !ok {
		t.Fatalf("apptest: count statements: the connection pool is a %T, not a *sql.DB", db.Statement.ConnPool)
	}
	s := &Statements{}
	// A context makes the session clone db's statement, which would otherwise be shared.
	counted := db.Session(&gorm.Session{NewDB: true, Context: context.Background()})
	if counted.Statement == db.Statement {
		t.Fatal("apptest: count statements: the session shares db's statement")
	}
	counted.Statement.ConnPool = newCountingDB(inner, s)
	return counted, s
}

// counting records each statement run through pool, then runs it.
type counting struct {
	pool gorm.ConnPool
	s    *Statements
	tx   *txState // in a transaction
}

// txState is what a transaction has sent, as pgdriver sends it: on PostgreSQL BEGIN goes with
// the first statement when that is an Exec (and alone before any other), and a statement with
// pgdriver.CommitWith carries COMMIT.
type txState struct {
	pending bool     // BEGIN is still to go
	ended   bool     // a CommitWith query ran
	held    []string // Exec statements held back (pgdriver.Defer), sent with the next one
}

// add records q; exec: it is an Exec, which carries a pending BEGIN.
func (c counting) add(q string, exec bool) {
	if c.tx != nil && len(c.tx.held) > 0 {
		c.sendHeld(q)
		return
	}
	if c.tx != nil && c.tx.pending {
		c.tx.pending = false
		if exec {
			q = "BEGIN; " + q
		} else {
			c.s.add("BEGIN")
		}
	}
	c.s.add(q)
}

// sendHeld records the held statements and then q (if not empty) as one round trip, a pending
// BEGIN first, as pgdriver batches them.
func (c counting) sendHeld(q string) {
	parts := c.tx.held
	if c.tx.pending {
		parts = append([]string{"BEGIN"}, parts...)
		c.tx.pending = false
	}
	if q != "" {
		parts = append(parts, q)
	}
	c.tx.held = nil
	c.s.add(strings.Join(parts, "; "))
}

func (c counting) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	c.add("PREPARE "+q, false)
	return c.pool.PrepareContext(ctx, q)
}

func (c counting) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if _, held := firstArg(args).(pgdriver.Defer); held && c.tx != nil {
		c.tx.held = append(c.tx.held, q)
		return c.pool.ExecContext(ctx, q, args...)
	}
	c.add(q, true)
	return c.pool.ExecContext(ctx, q, args...)
}

func (c counting) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.add(q, false)
	if c.tx != nil && len(args) > 0 {
		if _, ok := args[0].(pgdriver.CommitWith); ok {
			c.tx.ended = true // its COMMIT travels with it
		}
	}
	return c.pool.QueryContext(ctx, q, args...)
}

func (c counting) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c.add(q, false)
	return c.pool.QueryRowContext(ctx, q, args...)
}

func firstArg(args []any) any {
	if len(args) == 0 {
		return nil
	}
	return args[0]
}

// countingDB is a gorm.ConnPool and gorm.ConnPoolBeginner that records what it runs.
type countingDB struct {
	counting
	db *sql.DB
}

func newCountingDB(db *sql.DB, s *Statements) *countingDB {
	return &countingDB{counting: counting{pool: db, s: s}, db: db}
}

func (c *countingDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	st := &txState{}
	if pgdriver.Opened(c.db) && (opts == nil || opts.Isolation == sql.LevelDefault && !opts.ReadOnly) {
		st.pending = true
	} else {
		c.s.add("BEGIN")
	}
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{counting: counting{pool: tx, s: c.s, tx: st}, tx: tx}, nil
}

// GetDBConn gives gorm.DB.DB the pool underneath.
func (c *countingDB) GetDBConn() (*sql.DB, error) { return c.db, nil }

// countingTx is a transaction of countingDB.
type countingTx struct {
	counting
	tx *sql.Tx
}

func (c *countingTx) Commit() error {
	if len(c.counting.tx.held) > 0 {
		c.sendHeld("COMMIT")
		return c.tx.Commit()
	}
	if !c.counting.tx.pending && !c.counting.tx.ended {
		c.s.add("COMMIT")
	}
	return c.tx.Commit()
}

func (c *countingTx) Rollback() error {
	c.counting.tx.held = nil // never sent
	if !c.counting.tx.pending && !c.counting.tx.ended {
		c.s.add("ROLLBACK")
	}
	return c.tx.Rollback()
}

package apptest

import (
	"context"
	"database/sql"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm"
)

// Statements records every round trip that a counting handle (see CountStatements) makes to
// the database: begin, each statement, commit and rollback. It is safe for concurrent use.
type Statements struct {
	mu   sync.Mutex
	list []string
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
	s.list = append(s.list, strings.Join(strings.Fields(q), " "))
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
	counted.Statement.ConnPool = &countingDB{db: inner, s: s}
	return counted, s
}

// countingDB is a gorm.ConnPool and gorm.ConnPoolBeginner that records what it runs.
type countingDB struct {
	db *sql.DB
	s  *Statements
}

func (c *countingDB) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	c.s.add("PREPARE " + q)
	return c.db.PrepareContext(ctx, q)
}

func (c *countingDB) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.s.add(q)
	return c.db.ExecContext(ctx, q, args...)
}

func (c *countingDB) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.s.add(q)
	return c.db.QueryContext(ctx, q, args...)
}

func (c *countingDB) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c.s.add(q)
	return c.db.QueryRowContext(ctx, q, args...)
}

func (c *countingDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	c.s.add("BEGIN")
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countingTx{tx: tx, s: c.s}, nil
}

// countingTx is a transaction of countingDB.
type countingTx struct {
	tx *sql.Tx
	s  *Statements
}

func (c *countingTx) PrepareContext(ctx context.Context, q string) (*sql.Stmt, error) {
	c.s.add("PREPARE " + q)
	return c.tx.PrepareContext(ctx, q)
}

func (c *countingTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	c.s.add(q)
	return c.tx.ExecContext(ctx, q, args...)
}

func (c *countingTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	c.s.add(q)
	return c.tx.QueryContext(ctx, q, args...)
}

func (c *countingTx) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	c.s.add(q)
	return c.tx.QueryRowContext(ctx, q, args...)
}

func (c *countingTx) Commit() error {
	c.s.add("COMMIT")
	return c.tx.Commit()
}

func (c *countingTx) Rollback() error {
	c.s.add("ROLLBACK")
	return c.tx.Rollback()
}

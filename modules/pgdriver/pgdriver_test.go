package pgdriver_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pagespace/pagespace/app/apptest"
	"github.com/pagespace/pagespace/modules/pgdriver"
)

// sent records the statements pgx sends (BEGIN, COMMIT and ROLLBACK included).
type sent struct {
	mu   sync.Mutex
	list []string
}

func (s *sent) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, strings.ToLower(strings.TrimSpace(d.SQL)))
	return ctx
}

func (s *sent) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *sent) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.list
	s.list = nil
	return out
}

// open returns a pool of one connection to a fresh database with a table t (id primary key)
// and a table d whose unique id is checked at commit, what the pool sends, and a second
// connection to look from outside the transactions.
func open(t *testing.T) (*sql.DB, *sent, *pgx.Conn) {
	t.Helper()
	if apptest.Dialect() != "postgres" {
		t.Skip("PostgreSQL only (PAGESPACE_TEST_DB=postgres)")
	}
	url := apptest.NewPostgresDB(t)
	ctx := context.Background()
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close(context.Background()) })
	if _, err := other.Exec(ctx, `CREATE TABLE t (id int PRIMARY KEY);
		CREATE TABLE d (id int, UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	s := &sent{}
	cfg.Tracer = s
	db := pgdriver.OpenConfig(cfg)
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return db, s, other
}

// begin begins a transaction on db.
func begin(t *testing.T, db *sql.DB) *sql.Tx {
	t.Helper()
	tx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// insertOutside inserts id into t on c, outside the transactions under test.
func insertOutside(t *testing.T, c *pgx.Conn, id int) {
	t.Helper()
	if _, err := c.Exec(context.Background(), "INSERT INTO t VALUES ($1)", id); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, c *pgx.Conn, table string) int {
	t.Helper()
	var n int
	if err := c.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// insertCommitting inserts id into table with CommitWith and reads the rows to the end.
func insertCommitting(ctx context.Context, tx *sql.Tx, table string, id int) error {
	rows, err := tx.QueryContext(ctx, "INSERT INTO "+table+" VALUES ($1) RETURNING id", pgdriver.CommitWith{}, id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var got int
		if err := rows.Scan(&got); err != nil {
			rows.Close()
			return err
		}
	}
	return errors.Join(rows.Close(), rows.Err())
}

// A CommitWith statement commits the transaction, and Commit then sends nothing.
func TestCommitWith(t *testing.T) {
	db, s, other := open(t)
	ctx := context.Background()
	tx := begin(t, db)
	if err := insertCommitting(ctx, tx, "t", 1); err != nil {
		t.Fatal(err)
	}
	if n := count(t, other, "t"); n != 1 {
		t.Fatalf("before Commit, %d rows visible from another connection, want 1 (committed)", n)
	}
	if got := s.take(); len(got) != 2 || got[0] != "begin" || !strings.HasSuffix(got[1], "; commit") {
		t.Fatalf("sent %q, want begin and the insert with commit", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 0 {
		t.Fatalf("Commit sent %q, want nothing", got)
	}
	// The connection goes on, outside any transaction.
	var one int
	if err := db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatal(one, err)
	}
	if st := db.Stats(); st.OpenConnections != 1 || st.MaxIdleClosed+st.MaxLifetimeClosed+st.MaxIdleTimeClosed != 0 {
		t.Fatalf("pool %+v: the connection was not kept", st)
	}
	// Rollback after the commit has nothing to undo.
	tx = begin(t, db)
	if err := insertCommitting(ctx, tx, "t", 2); err != nil {
		t.Fatal(err)
	}
	s.take()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 0 || count(t, other, "t") != 2 {
		t.Fatalf("Rollback after the commit sent %q", got)
	}
}

// A CommitWith statement that fails leaves the transaction failed: nothing is committed, and
// Commit reports it.
func TestCommitWithStatementFails(t *testing.T) {
	db, s, other := open(t)
	ctx := context.Background()
	insertOutside(t, other, 1)
	tx := begin(t, db)
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if err := insertCommitting(ctx, tx, "t", 1); err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("duplicate insert: %v, want a unique violation", err)
	}
	s.take()
	if err := tx.Commit(); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("Commit: %v, want %v", err, pgx.ErrTxCommitRollback)
	}
	if got := s.take(); len(got) != 1 || got[0] != "commit" {
		t.Fatalf("Commit sent %q, want commit (which rolls the failed transaction back)", got)
	}
	if n := count(t, other, "t"); n != 1 {
		t.Fatalf("%d rows, want the first only", n)
	}
	if err := db.PingContext(ctx); err != nil {
		t.Fatal(err)
	}
}

// A COMMIT that fails (a deferred check) rolls the transaction back: Commit must not report
// success.
func TestCommitWithCommitFails(t *testing.T) {
	db, _, other := open(t)
	ctx := context.Background()
	for _, end := range []string{"commit", "rollback"} {
		tx := begin(t, db)
		if _, err := tx.ExecContext(ctx, "INSERT INTO d VALUES (7)"); err != nil {
			t.Fatal(err)
		}
		if err := insertCommitting(ctx, tx, "d", 7); err == nil || !strings.Contains(err.Error(), "23505") {
			t.Fatalf("deferred duplicate: %v, want a unique violation at commit", err)
		}
		if end == "commit" {
			if err := tx.Commit(); !errors.Is(err, pgdriver.ErrCommitUnconfirmed) {
				t.Fatalf("Commit: %v, want %v", err, pgdriver.ErrCommitUnconfirmed)
			}
		} else if err := tx.Rollback(); err != nil {
			t.Fatal(err)
		}
		if n := count(t, other, "d"); n != 0 {
			t.Fatalf("%d rows committed, want none", n)
		}
	}
}

func TestCommitWithOutsideTransaction(t *testing.T) {
	db, _, _ := open(t)
	_, err := db.QueryContext(context.Background(), "SELECT 1", pgdriver.CommitWith{})
	if err == nil || !strings.Contains(err.Error(), "outside a transaction") {
		t.Fatalf("got %v, want the error", err)
	}
}

// BEGIN travels with a transaction's first statement when that is an Exec, and a transaction
// that sent nothing ends without a round trip.
func TestBeginWithFirstExec(t *testing.T) {
	db, s, other := open(t)
	ctx := context.Background()
	tx := begin(t, db)
	if got := s.take(); len(got) != 0 {
		t.Fatalf("BeginTx sent %q, want nothing yet", got)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ($1)", 1); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 1 || got[0] != "begin; insert into t values ($1)" {
		t.Fatalf("sent %q, want BEGIN with the insert", got)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ($1)", 2); err != nil {
		t.Fatal(err)
	}
	if n := count(t, other, "t"); n != 0 {
		t.Fatalf("%d rows visible before the commit: the inserts ran outside a transaction", n)
	}
	s.take()
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 1 || got[0] != "commit" {
		t.Fatalf("Commit sent %q", got)
	}
	if n := count(t, other, "t"); n != 2 {
		t.Fatalf("%d rows after the commit, want 2", n)
	}
	// Nothing sent, nothing to end.
	for _, end := range []func(*sql.Tx) error{(*sql.Tx).Commit, (*sql.Tx).Rollback} {
		tx := begin(t, db)
		if err := end(tx); err != nil {
			t.Fatal(err)
		}
		if got := s.take(); len(got) != 0 {
			t.Fatalf("an empty transaction sent %q", got)
		}
	}
	// A transaction with options begins at once, as pgx writes it.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (3)"); err == nil || !strings.Contains(err.Error(), "25006") {
		t.Fatalf("insert in a read-only transaction: %v, want read_only_sql_transaction", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 3 || got[0] != "begin read only" || got[2] != "rollback" {
		t.Fatalf("sent %q", got)
	}
}

// A first Exec that fails leaves a failed transaction, which Rollback ends; the connection then
// works outside any transaction.
func TestBeginWithFirstExecFails(t *testing.T) {
	db, s, other := open(t)
	ctx := context.Background()
	insertOutside(t, other, 1)
	tx := begin(t, db)
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ($1)", 1); err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("duplicate insert: %v, want a unique violation", err)
	}
	s.take()
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 1 || got[0] != "rollback" {
		t.Fatalf("Rollback sent %q", got)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, other, "t"); n != 2 {
		t.Fatalf("%d rows, want 2: the connection was left in a transaction", n)
	}
}

// A BEGIN that never reached the server (its statement failed before it was sent: pgx cannot
// encode a channel) stays pending: the next statement still runs inside the transaction.
func TestBeginNotSentStaysPending(t *testing.T) {
	db, s, other := open(t)
	tx := begin(t, db)
	ctx := context.Background()
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ($1)", make(chan int)); err == nil {
		t.Fatal("an Exec with an argument pgx cannot encode succeeded")
	}
	s.take() // the tracer saw the attempt, which pgx gave up before sending
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES ($1)", 2); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 1 || !strings.HasPrefix(got[0], "begin; ") {
		t.Fatalf("sent %q, want BEGIN with the insert", got)
	}
	if n := count(t, other, "t"); n != 0 {
		t.Fatalf("%d rows visible before the commit: the insert ran outside the transaction", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, other, "t"); n != 1 {
		t.Fatalf("%d rows after the commit, want 1", n)
	}
}

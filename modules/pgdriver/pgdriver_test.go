package pgdriver_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// A batch is recorded as one message: "batch: " and its statements joined with "; ".
func (s *sent) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	var list []string
	for _, q := range d.Batch.QueuedQueries {
		list = append(list, strings.ToLower(strings.TrimSpace(q.SQL)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list = append(s.list, "batch: "+strings.Join(list, "; "))
	return ctx
}

func (s *sent) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (s *sent) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

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

// deferInsert holds back an insert of id into t.
func deferInsert(t *testing.T, tx *sql.Tx, id int) {
	t.Helper()
	res, err := tx.ExecContext(context.Background(), "INSERT INTO t VALUES ($1)", pgdriver.Defer{}, id)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := res.RowsAffected(); n != 0 || err != nil {
		t.Fatalf("a deferred Exec reports %d rows (%v), want 0", n, err)
	}
}

// A deferred Exec goes with the next query, BEGIN first, in one message; the query sees what it
// did, and the outside does not until the commit.
func TestDeferWithNextQuery(t *testing.T) {
	db, s, other := open(t)
	ctx := context.Background()
	tx := begin(t, db)
	deferInsert(t, tx, 1)
	deferInsert(t, tx, 2)
	if got := s.take(); len(got) != 0 {
		t.Fatalf("deferred Execs sent %q, want nothing yet", got)
	}
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM t WHERE id <= $1", 2).Scan(&n); err != nil || n != 2 {
		t.Fatalf("the query after the deferred inserts counted %d (%v), want 2", n, err)
	}
	if got := s.take(); len(got) != 1 || got[0] != "batch: begin; insert into t values ($1); insert into t values ($1); select count(*) from t where id <= $1" {
		t.Fatalf("sent %q, want one batch: BEGIN, the inserts, the query", got)
	}
	if n := count(t, other, "t"); n != 0 {
		t.Fatalf("%d rows visible before the commit: the inserts ran outside a transaction", n)
	}
	// Once sent, the transaction goes on as any other.
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (3)"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 2 || got[0] != "insert into t values (3)" || got[1] != "commit" {
		t.Fatalf("sent %q, want the insert alone, then COMMIT", got)
	}
	if n := count(t, other, "t"); n != 3 {
		t.Fatalf("%d rows after the commit, want 3", n)
	}
}

// A deferred Exec's error is the next statement's; the transaction is then failed, and Commit
// reports it.
func TestDeferredExecFails(t *testing.T) {
	db, s, other := open(t)
	ctx := context.Background()
	insertOutside(t, other, 1)
	tx := begin(t, db)
	deferInsert(t, tx, 1) // a duplicate
	var n int
	err := tx.QueryRowContext(ctx, "SELECT count(*) FROM t").Scan(&n)
	if err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("the query after a failing deferred insert: %v, want its unique violation", err)
	}
	if err := tx.Commit(); !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Fatalf("Commit of the failed transaction: %v, want ErrTxCommitRollback", err)
	}
	s.take()
	// The connection is left outside any transaction.
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (2)"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, other, "t"); n != 2 {
		t.Fatalf("%d rows, want 2", n)
	}
	// An Exec after a failing deferred one fails the same way.
	tx = begin(t, db)
	deferInsert(t, tx, 2)
	if _, err := tx.ExecContext(ctx, "INSERT INTO t VALUES (3)"); err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("the Exec after a failing deferred insert: %v, want its unique violation", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, other, "t"); n != 2 {
		t.Fatalf("%d rows after the rollback, want 2", n)
	}
}

// A deferred Exec goes with a CommitWith query, or with the transaction's COMMIT; a transaction
// rolled back before sending it sends nothing.
func TestDeferThenCommit(t *testing.T) {
	db, s, other := open(t)
	ctx := context.Background()
	tx := begin(t, db)
	deferInsert(t, tx, 1)
	if err := insertCommitting(ctx, tx, "t", 2); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 1 || got[0] != "batch: begin; insert into t values ($1); insert into t values ($1) returning id; commit" {
		t.Fatalf("sent %q, want one batch ending in COMMIT", got)
	}
	if n := count(t, other, "t"); n != 2 {
		t.Fatalf("before Commit, %d rows visible, want 2 (committed)", n)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 0 {
		t.Fatalf("Commit sent %q, want nothing", got)
	}

	tx = begin(t, db)
	deferInsert(t, tx, 3)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 1 || got[0] != "batch: begin; insert into t values ($1); commit" {
		t.Fatalf("Commit sent %q, want BEGIN, the insert and COMMIT in one batch", got)
	}
	if n := count(t, other, "t"); n != 3 {
		t.Fatalf("%d rows after the commit, want 3", n)
	}

	tx = begin(t, db)
	deferInsert(t, tx, 4)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got := s.take(); len(got) != 0 || count(t, other, "t") != 3 {
		t.Fatalf("a rolled back transaction with a deferred insert sent %q", got)
	}

	// A commit whose deferred statement fails at COMMIT (a deferred unique check) reports it.
	insertOutside(t, other, 0)
	if _, err := other.Exec(ctx, "INSERT INTO d VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	tx = begin(t, db)
	if _, err := tx.ExecContext(ctx, "INSERT INTO d VALUES ($1)", pgdriver.Defer{}, 1); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("Commit with a duplicate checked at commit: %v, want the unique violation", err)
	}
	if n := count(t, other, "d"); n != 1 {
		t.Fatalf("%d rows in d, want 1", n)
	}
	if err := insertCommitting(ctx, tx, "t", 9); err == nil {
		t.Fatal("a CommitWith query on an ended transaction succeeded")
	}

	// A deferred statement that fails when Commit sends it: Commit reports its error, nothing
	// is committed, and the pool goes on (the connection, left in a failed transaction, is
	// replaced).
	tx = begin(t, db)
	deferInsert(t, tx, 1) // a duplicate
	deferInsert(t, tx, 5)
	if err := tx.Commit(); err == nil || !strings.Contains(err.Error(), "23505") {
		t.Fatalf("Commit with a failing deferred insert: %v, want its unique violation", err)
	}
	if _, err := db.ExecContext(ctx, "INSERT INTO t VALUES (6)"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, other, "t"); n != 5 {
		t.Fatalf("%d rows in t, want 5 (0 to 3, and 6)", n)
	}
	if _, err := db.ExecContext(ctx, "SELECT 1", pgdriver.Defer{}); err == nil {
		t.Fatal("Defer outside a transaction succeeded")
	}
}

// A query sent in a batch gives the values a query alone gives.
func TestDeferredQueryValues(t *testing.T) {
	db, _, _ := open(t)
	ctx := context.Background()
	const q = `SELECT true, false, 1::int2, 2::int4, 3::int8, 1.5::float4, 2.5::float8, 'x'::text, 'y'::varchar,
		'\x0102'::bytea, '{"a":1}'::json, '{"b":2}'::jsonb, '2026-12-06 10:00:00.123456+00'::timestamptz,
		'2026-12-06 10:00:00'::timestamp, '2026-12-06'::date, NULL::text, 'infinity'::timestamptz, 7::numeric,
		'5e4a1d7c-0c8e-4f3e-9a52-1f0e6c1b2d3e'::uuid, ARRAY[1,2]`
	read := func(tx *sql.Tx) []any {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if !rows.Next() {
			t.Fatal("no row", rows.Err())
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if rows.Next() {
			t.Fatal("two rows")
		}
		return vals
	}
	tx := begin(t, db)
	alone := read(tx)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	tx = begin(t, db)
	deferInsert(t, tx, 1)
	batched := read(tx)
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if len(alone) != len(batched) {
		t.Fatalf("%d columns alone, %d batched", len(alone), len(batched))
	}
	for i := range alone {
		if fmt.Sprintf("%T %v", alone[i], alone[i]) != fmt.Sprintf("%T %v", batched[i], batched[i]) {
			t.Errorf("column %d: %T %v alone, %T %v batched", i, alone[i], alone[i], batched[i], batched[i])
		}
	}
}

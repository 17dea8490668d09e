package db

import (
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

const createFoo = "CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT)"

func TestDB_Apply_StickyCounters(t *testing.T) {
	d := newTestDB(t)
	res := apply(t, d, &Request{Statements: stmts(
		createFoo,
		`INSERT INTO foo(name) VALUES("fiona")`,
		"DROP TABLE foo",
	)}, ModeExecute, testEnv)
	checkResults(t, res, []Result{
		{},
		{LastInsertID: 1, RowsAffected: 1},
		{LastInsertID: 1, RowsAffected: 1}, // sticky (MUST-COPY)
	})
	// Still sticky in the next request: one long-lived connection.
	res = apply(t, d, &Request{Statements: stmts("SELECT 1")}, ModeExecute, testEnv)
	checkResults(t, res, []Result{{LastInsertID: 1, RowsAffected: 1}})
}

func TestDB_Apply_NoTransaction_ContinuesAfterError(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	res := apply(t, d, &Request{Statements: stmts(
		`INSERT INTO foo(id, name) VALUES(1, "a")`,
		`INSERT INTO foo(id, name) VALUES(1, "b")`,
		"",
		`INSERT INTO foo(id, name) VALUES(2, "c")`,
	)}, ModeExecute, testEnv)
	checkResults(t, res, []Result{
		{LastInsertID: 1, RowsAffected: 1},
		{Error: "UNIQUE constraint failed: foo.id"},
		{LastInsertID: 2, RowsAffected: 1},
	})
	if got := len(queryValues(t, d, "SELECT * FROM foo")); got != 2 {
		t.Errorf("rows: got %d, want 2", got)
	}
}

func TestDB_Apply_Transaction_RollsBackAndStops(t *testing.T) {
	for _, mode := range []Mode{ModeExecute, ModeRequest} {
		d := newTestDB(t)
		exec(t, d, createFoo)
		res := apply(t, d, &Request{Transaction: true, Statements: stmts(
			`INSERT INTO foo(id, name) VALUES(1, "a")`,
			`INSERT INTO foo(id, name) VALUES(1, "b")`,
			`INSERT INTO foo(id, name) VALUES(2, "c")`,
		)}, mode, testEnv)
		checkResults(t, res, []Result{
			{LastInsertID: 1, RowsAffected: 1}, // shown as success though rolled back
			{Error: "UNIQUE constraint failed: foo.id"},
		})
		if got := queryValues(t, d, "SELECT * FROM foo"); len(got) != 0 {
			t.Errorf("mode %d: rows after rollback: %v", mode, got)
		}
		// The connection is usable and not left in a transaction.
		res = apply(t, d, &Request{Transaction: true, Statements: stmts(`INSERT INTO foo(id, name) VALUES(3, "d")`)}, mode, testEnv)
		checkResults(t, res, []Result{{LastInsertID: 3, RowsAffected: 1}})
	}
}

func TestDB_Apply_UserTransaction(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	res := apply(t, d, &Request{Statements: stmts(
		"BEGIN", `INSERT INTO foo(name) VALUES("a")`, `INSERT INTO foo(name) VALUES("b")`, "ROLLBACK",
	)}, ModeExecute, testEnv)
	for i, r := range res {
		if r.Error != "" {
			t.Fatalf("statement %d: %s", i, r.Error)
		}
	}
	if got := queryValues(t, d, "SELECT * FROM foo"); len(got) != 0 {
		t.Errorf("rows after user ROLLBACK: %v", got)
	}
}

func TestDB_Apply_Returning(t *testing.T) {
	const ins = `INSERT INTO foo(name) VALUES("fiona") RETURNING id, name`
	rows := Result{Rows: true, Columns: []string{"id", "name"}, Types: []string{"integer", "text"},
		Values: [][]any{{int64(1), "fiona"}}}
	tests := []struct {
		name string
		mode Mode
		req  Request
		want Result
	}{
		{"execute", ModeExecute, Request{}, rows},
		{"execute noparse", ModeExecute, Request{NoParse: true}, Result{LastInsertID: 1, RowsAffected: 1}},
		{"request", ModeRequest, Request{}, rows},
		{"query refuses", ModeQuery, Request{}, Result{Rows: true, Error: ErrQueryWrite.Error()}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDB(t)
			exec(t, d, createFoo)
			req := tt.req
			req.Statements = stmts(ins)
			checkResults(t, apply(t, d, &req, tt.mode, testEnv), []Result{tt.want})
		})
	}
}

func TestDB_Apply_Modes(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo, `INSERT INTO foo(name) VALUES("fiona")`)
	sel := Result{Rows: true, Columns: []string{"id", "name"}, Types: []string{"integer", "text"},
		Values: [][]any{{int64(1), "fiona"}}}
	tests := []struct {
		name string
		mode Mode
		want []Result
	}{
		{"execute: read gives counters", ModeExecute, []Result{{LastInsertID: 1, RowsAffected: 1}, {LastInsertID: 2, RowsAffected: 1}}},
		{"request: read gives rows", ModeRequest, []Result{sel, {LastInsertID: 3, RowsAffected: 1}}},
		{"query: write refused", ModeQuery, []Result{sel, {Rows: true, Error: ErrQueryWrite.Error()}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := apply(t, d, &Request{Statements: stmts(
				"SELECT * FROM foo WHERE id = 1", `INSERT INTO foo(name) VALUES("x")`)}, tt.mode, testEnv)
			checkResults(t, res, tt.want)
		})
	}
}

func TestDB_Query_RefusesWrites(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	for _, tx := range []bool{false, true} {
		res := query(t, d, &Request{Transaction: tx, Statements: stmts(
			`INSERT INTO foo(name) VALUES("x")`, "SELECT COUNT(*) FROM foo", "SELECT * FROM nope", "CREATE TABLE bar (x)",
		)})
		checkResults(t, res, []Result{
			{Rows: true, Error: ErrQueryWrite.Error()},
			{Rows: true, Columns: []string{"COUNT(*)"}, Types: []string{"integer"}, Values: [][]any{{int64(0)}}},
			{Rows: true, Error: "no such table: nope"},
			{Rows: true, Error: ErrQueryWrite.Error()},
		})
	}
}

func TestDB_Apply_ErrorMessages(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo, "CREATE TABLE child (pid INTEGER NOT NULL)")
	tests := []struct{ sql, want string }{
		{"blah", `near "blah": syntax error`},
		{"SELECT * FROM nope", "no such table: nope"},
		{"INSERT INTO foo(nope) VALUES(1)", "table foo has no column named nope"},
		{"INSERT INTO child VALUES(NULL)", "NOT NULL constraint failed: child.pid"},
		{"CREATE TABLE foo (x)", "table foo already exists"},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			res := apply(t, d, &Request{Statements: stmts(tt.sql)}, ModeExecute, testEnv)
			if len(res) != 1 || res[0].Error != tt.want {
				t.Errorf("got %+v, want error %q", res, tt.want)
			}
		})
	}
}

func TestDB_Apply_DoubleQuotedStrings(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo, `INSERT INTO foo(name) VALUES("fiona")`)
	if got := queryValues(t, d, `SELECT name FROM foo WHERE name = "fiona"`); len(got) != 1 || got[0][0] != "fiona" {
		t.Errorf("got %v", got)
	}
}

func TestDB_Apply_MultiStatementString(t *testing.T) {
	d := newTestDB(t)
	res := apply(t, d, &Request{Statements: stmts(
		createFoo + `; INSERT INTO foo(name) VALUES("a"); INSERT INTO foo(name) VALUES("b");`,
	)}, ModeExecute, testEnv)
	checkResults(t, res, []Result{{LastInsertID: 2, RowsAffected: 1}})
	// In request mode a multi-statement write is one write entry too.
	res = apply(t, d, &Request{Statements: stmts(
		`INSERT INTO foo(name) VALUES("c") RETURNING id; INSERT INTO foo(name) VALUES("d")`,
	)}, ModeRequest, testEnv)
	checkResults(t, res, []Result{{LastInsertID: 4, RowsAffected: 1}})
	if got := len(queryValues(t, d, "SELECT * FROM foo")); got != 4 {
		t.Errorf("rows: got %d, want 4", got)
	}
}

func TestDB_Apply_Parameters(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE p (a BLOB, b, c)")
	tests := []struct {
		name   string
		sql    string
		params []Parameter
		want   []any
	}{
		{"positional", "INSERT INTO p VALUES(?, ?, ?)",
			[]Parameter{{Value: int64(1)}, {Value: "two"}, {Value: 3.5}}, []any{int64(1), "two", 3.5}},
		{"colon", "INSERT INTO p VALUES(:a, :b, :c)",
			[]Parameter{{Name: "c", Value: nil}, {Name: "a", Value: []byte{1}}, {Name: "b", Value: true}}, []any{[]byte{1}, int64(1), nil}},
		{"at", "INSERT INTO p VALUES(@a, @b, @c)",
			[]Parameter{{Name: "a", Value: int64(1)}, {Name: "b", Value: false}, {Name: "c", Value: "x"}}, []any{int64(1), int64(0), "x"}},
		{"dollar", "INSERT INTO p VALUES($a, $b, $c)",
			[]Parameter{{Name: "b", Value: int64(2)}, {Name: "a", Value: int64(1)}, {Name: "c", Value: int64(3)}}, []any{int64(1), int64(2), int64(3)}},
		{"mixed", "INSERT INTO p VALUES(?, :name, ?)",
			[]Parameter{{Value: int64(1)}, {Name: "name", Value: "n"}, {Value: int64(3)}}, []any{int64(1), "n", int64(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exec(t, d, "DELETE FROM p")
			res := apply(t, d, &Request{Statements: []Statement{{SQL: tt.sql, Parameters: tt.params}}}, ModeExecute, testEnv)
			if len(res) != 1 || res[0].Error != "" {
				t.Fatalf("insert: %+v", res)
			}
			got := queryValues(t, d, "SELECT a, b, c FROM p")
			checkResults(t, []Result{{Values: got}}, []Result{{Values: [][]any{tt.want}}})
		})
	}
	// A missing parameter is a statement error, not a crash.
	res := apply(t, d, &Request{Statements: stmts("INSERT INTO p VALUES(?, ?, ?)")}, ModeExecute, testEnv)
	if len(res) != 1 || res[0].Error == "" {
		t.Errorf("missing parameters: got %+v, want an error", res)
	}
}

// slowCount takes seconds to run: a long single step.
const slowCount = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c"

func TestDB_Timeout(t *testing.T) {
	d := newTestDB(t)
	start := time.Now()
	got := query(t, d, &Request{Timeout: 50 * time.Millisecond, Statements: stmts(slowCount)})
	checkResults(t, got, []Result{{Rows: true, Error: "query timeout"}})
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("took %v", el)
	}
}

// TestDB_ApplyIgnoresTimeout: db_timeout is a wall-clock limit, so on the
// apply path it would stop a statement on a slow replica and not on a
// fast one. Writes and strong reads run to completion whatever it says,
// and a replica given a tiny timeout ends identical to one given none.
func TestDB_ApplyIgnoresTimeout(t *testing.T) {
	const insert = "INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 50000) SELECT x FROM c"
	run := func(timeout time.Duration) *DB {
		d := newTestDB(t)
		exec(t, d, "CREATE TABLE big (x)")
		res := apply(t, d, &Request{Timeout: timeout, Statements: stmts(insert)}, ModeExecute, testEnv)
		checkResults(t, res, []Result{{LastInsertID: 50000, RowsAffected: 50000}})
		res = apply(t, d, &Request{Timeout: timeout, Statements: stmts("SELECT count(*), sum(x) FROM big")}, ModeQuery, testEnv)
		if len(res) != 1 || res[0].Error != "" {
			t.Fatalf("strong read with db_timeout %v: %+v", timeout, res)
		}
		return d
	}
	tiny, none := run(time.Nanosecond), run(0)
	const sum = "SELECT count(*), sum(x) FROM big"
	if a, b := queryValues(t, tiny, sum), queryValues(t, none, sum); !reflect.DeepEqual(a, b) || a[0][0] != int64(50000) {
		t.Errorf("replica with a tiny db_timeout has %v, the other %v", a, b)
	}
}

func TestDB_Timings(t *testing.T) {
	d := newTestDB(t)
	res := apply(t, d, &Request{Timings: true, Statements: stmts(createFoo)}, ModeExecute, testEnv)
	if len(res) != 1 || res[0].Time <= 0 {
		t.Errorf("got %+v, want a positive Time", res)
	}
	res = apply(t, d, &Request{Statements: stmts("SELECT 1")}, ModeExecute, testEnv)
	if res[0].Time != 0 {
		t.Errorf("Time without timings: %v", res[0].Time)
	}
}

func TestDB_Query_TransactionAndUserBegin(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	// A user BEGIN on the read path must not pin a pooled connection to an
	// old snapshot.
	for i := 0; i < 8; i++ {
		query(t, d, &Request{Statements: stmts("BEGIN", "SELECT * FROM foo")})
	}
	exec(t, d, `INSERT INTO foo(name) VALUES("x")`)
	for i := 0; i < 8; i++ {
		if got := queryValues(t, d, "SELECT COUNT(*) FROM foo"); got[0][0] != int64(1) {
			t.Fatalf("stale read: count %v", got[0][0])
		}
	}
	res := query(t, d, &Request{Transaction: true, Statements: stmts("SELECT 1", "SELECT 2")})
	if len(res) != 2 || res[0].Error != "" || res[1].Error != "" {
		t.Errorf("transaction query: %+v", res)
	}
}

func TestDB_ConcurrentQueryDuringApply(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := 0; g < 3; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				res, err := d.Query(ctx, &Request{Statements: stmts("SELECT COUNT(*) FROM foo")})
				if err != nil || len(res) != 1 || res[0].Error != "" {
					errs <- errors.New("query failed")
					return
				}
			}
		}()
	}
	for i := 0; i < 200; i++ {
		exec(t, d, `INSERT INTO foo(name) VALUES("x")`)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := queryValues(t, d, "SELECT COUNT(*) FROM foo"); got[0][0] != int64(200) {
		t.Errorf("count: %v", got[0][0])
	}
}

func TestDB_Closed(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo, `INSERT INTO foo(name) VALUES("x")`)
	queryValues(t, d, "SELECT * FROM foo")
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	// SQLite removes the WAL only when the last connection closes.
	if _, err := os.Stat(d.Path() + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WAL still present after Close (leaked connection?): %v", err)
	}
	if err := d.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ctx := context.Background()
	checks := map[string]error{}
	_, checks["Apply"] = d.Apply(ctx, &Request{}, ModeExecute, testEnv)
	_, checks["Query"] = d.Query(ctx, &Request{})
	_, checks["ReadOnly"] = d.ReadOnly(ctx, nil)
	_, checks["Stats"] = d.Stats()
	checks["Ping"] = d.Ping(ctx)
	checks["Checkpoint"] = d.Checkpoint(ctx)
	checks["CopyTo"] = d.CopyTo(ctx, t.TempDir()+"/x")
	checks["Dump"] = d.Dump(ctx, &strings.Builder{}, nil)
	for name, err := range checks {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", name, err)
		}
	}
}

func TestDB_Apply_EmptyStatements(t *testing.T) {
	blank := stmts(" ", "-- comment", ";", "/* c */ ;")
	tests := []struct {
		name string
		run  func(d *DB) []Result
		want Result
	}{
		{"execute", func(d *DB) []Result { return apply(t, d, &Request{Statements: blank}, ModeExecute, testEnv) }, Result{}},
		{"execute noparse", func(d *DB) []Result {
			return apply(t, d, &Request{NoParse: true, Statements: blank}, ModeExecute, testEnv)
		}, Result{}},
		{"request", func(d *DB) []Result { return apply(t, d, &Request{Statements: blank}, ModeRequest, testEnv) }, Result{Rows: true}},
		{"strong query", func(d *DB) []Result { return apply(t, d, &Request{Statements: blank}, ModeQuery, testEnv) }, Result{Rows: true}},
		{"query", func(d *DB) []Result { return query(t, d, &Request{Statements: blank}) }, Result{Rows: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDB(t)
			checkResults(t, tt.run(d), []Result{tt.want, tt.want, tt.want, tt.want})
		})
	}
}

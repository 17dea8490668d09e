package db

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// testEnv is a fixed entry environment.
var testEnv = Env{Seed: 42, Now: time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)}

// newTestDB opens a fresh database in t.TempDir, closed at cleanup.
func newTestDB(t testing.TB) *DB {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "db.sqlite")
	cfg.MaxReadConns = 4
	d, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// stmts builds statements without parameters.
func stmts(sqls ...string) []Statement {
	out := make([]Statement, len(sqls))
	for i, s := range sqls {
		out[i] = Statement{SQL: s}
	}
	return out
}

// apply runs req on d's write connection and fails the test on a database
// error.
func apply(t testing.TB, d *DB, req *Request, mode Mode, env Env) []Result {
	t.Helper()
	res, err := d.Apply(context.Background(), req, mode, env)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	return res
}

// exec applies sqls in ModeExecute and fails the test on any statement
// error.
func exec(t testing.TB, d *DB, sqls ...string) []Result {
	t.Helper()
	res := apply(t, d, &Request{Statements: stmts(sqls...)}, ModeExecute, testEnv)
	for i, r := range res {
		if r.Error != "" {
			t.Fatalf("exec %q: %s", sqls[i], r.Error)
		}
	}
	return res
}

// query runs sqls on the read pool.
func query(t testing.TB, d *DB, req *Request) []Result {
	t.Helper()
	res, err := d.Query(context.Background(), req)
	if err != nil {
		t.Fatalf("Query: %v", err)
	}
	return res
}

// queryValues returns the values of a single read-only statement, failing
// on any error.
func queryValues(t testing.TB, d *DB, sql string) [][]any {
	t.Helper()
	res := query(t, d, &Request{Statements: stmts(sql)})
	if len(res) != 1 || res[0].Error != "" {
		t.Fatalf("query %q: %+v", sql, res)
	}
	return res[0].Values
}

// checkResults compares results ignoring Time.
func checkResults(t *testing.T, got, want []Result) {
	t.Helper()
	for i := range got {
		got[i].Time = 0
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("results:\n got  %#v\n want %#v", got, want)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(time.Millisecond)
	}
}

// ApplyEntry applies one entry on its own (a batch of one).
func (d *DB) ApplyEntry(ctx context.Context, items []Item, at Applied) ([][]Result, error) {
	out, err := d.ApplyBatch(ctx, []Entry{{Items: items, At: at}})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// Apply runs req on the write connection in the given mode, as one
// request outside the Raft apply path (the FSM uses ApplyBatch, which also
// records the applied index). Statement errors are
// returned inside the Results, the error is for failures of the database
// itself (ErrClosed).
//
// Determinism: random(), randomblob(N) and every 'now' (date/time
// functions, CURRENT_*) are computed from env, so the same entry yields
// the same values on every node (see doc.go).
func (d *DB) Apply(ctx context.Context, req *Request, mode Mode, env Env) ([]Result, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.fenv.reset(env, req)
	r := d.writeRunner(req, false)
	return r.run(ctx, mode), nil
}

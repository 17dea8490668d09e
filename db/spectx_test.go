package db

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestSpecTx_RefusesStatementsThatEndIt(t *testing.T) {
	d, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	if _, err := d.ApplyBatch(ctx, []Entry{{Items: []Item{{Req: &Request{Statements: []Statement{{SQL: "CREATE TABLE t (x)"}}}, Mode: ModeExecute}}, At: Applied{Index: 1, Term: 1}}}); err != nil {
		t.Fatal(err)
	}
	tx, err := d.BeginSpec(ctx, Env{Seed: 1, Now: time.Unix(0, 0)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	run := func(sql string) ([]Result, error) {
		return tx.Run(ctx, &Request{Statements: []Statement{{SQL: sql}}})
	}
	if _, err := run("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{"COMMIT", "end", "ROLLBACK", "rollback transaction", "SELECT 1; COMMIT", "BEGIN", "VACUUM", "DETACH x"} {
		if _, err := run(sql); !errors.Is(err, ErrSpecStatement) {
			t.Errorf("%s: %v, want ErrSpecStatement", sql, err)
		}
	}
	for _, sql := range []string{"SAVEPOINT a", "INSERT INTO t VALUES (2)", "ROLLBACK TO a", "ROLLBACK TRANSACTION TO SAVEPOINT a", "RELEASE a"} {
		if res, err := run(sql); err != nil || (len(res) > 0 && res[0].Error != "") {
			t.Errorf("%s: %v %+v", sql, err, res)
		}
	}
	if err := tx.Err(); err != nil {
		t.Fatalf("transaction ended: %v", err)
	}
	res, err := run("SELECT COUNT(*) FROM t")
	if err != nil || res[0].Values[0][0] != int64(1) {
		t.Fatalf("inside: %+v %v", res, err)
	}
	tx.Rollback()
	out, err := d.Query(ctx, &Request{Statements: []Statement{{SQL: "SELECT COUNT(*) FROM t"}}})
	if err != nil || out[0].Values[0][0] != int64(0) {
		t.Fatalf("after rollback: %+v %v (nothing may have been committed)", out, err)
	}
	if !errors.Is(tx.Err(), ErrSpecEnded) {
		t.Fatalf("Err after Rollback: %v", tx.Err())
	}
}

func TestSpecTx_PreemptedByApply(t *testing.T) {
	d, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	var aborted error
	tx, err := d.BeginSpec(ctx, Env{Seed: 1}, func(err error) { aborted = err })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Run(ctx, &Request{Statements: []Statement{{SQL: "CREATE TABLE spec (x)"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ApplyBatch(ctx, []Entry{{Items: []Item{{Req: &Request{Statements: []Statement{{SQL: "CREATE TABLE t (x)"}}}, Mode: ModeExecute}}, At: Applied{Index: 1, Term: 1}}}); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(aborted, ErrSpecPreempted) || !errors.Is(tx.Err(), ErrSpecPreempted) {
		t.Fatalf("onAbort %v, Err %v; want ErrSpecPreempted", aborted, tx.Err())
	}
	if _, err := tx.Run(ctx, &Request{Statements: []Statement{{SQL: "SELECT 1"}}}); !errors.Is(err, ErrSpecPreempted) {
		t.Fatalf("Run after preemption: %v", err)
	}
	out, err := d.Query(ctx, &Request{Statements: []Statement{{SQL: "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master ORDER BY name)"}}})
	if err != nil || out[0].Values[0][0] != "_rdb_applied,t" {
		t.Fatalf("schema %+v %v: the speculative table must be gone", out, err)
	}
}

func TestApplyTx_ReplaysAndRefuses(t *testing.T) {
	d, err := Open(Config{Path: filepath.Join(t.TempDir(), "db.sqlite")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	env := Env{Seed: 42, Now: time.Unix(1700000000, 0)}
	reqs := []*Request{
		{Statements: []Statement{{SQL: "CREATE TABLE t (id INTEGER PRIMARY KEY, r, ts)"}}},
		{Statements: []Statement{{SQL: "INSERT INTO t (r, ts) VALUES (RANDOM(), CURRENT_TIMESTAMP)"}}},
		{Statements: []Statement{{SQL: "SELECT r, ts, last_insert_rowid() FROM t"}}},
	}
	// The speculative run and the replay see the same values.
	spec, err := d.BeginSpec(ctx, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	var seen []Result
	for _, r := range reqs {
		res, err := spec.Run(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, res...)
	}
	res, txErr, err := d.ApplyTx(ctx, reqs, env, Applied{Index: 5, Term: 1})
	if err != nil || txErr != nil {
		t.Fatalf("ApplyTx: %v %v", txErr, err)
	}
	if got, want := res[2][0].Values, seen[2].Values; len(got) != 1 || got[0][0] != want[0][0] || got[0][1] != want[0][1] || got[0][2] != want[0][2] {
		t.Fatalf("replay saw %v, the speculative run %v", got, want)
	}
	if at, _ := d.Applied(ctx); at.Index != 5 {
		t.Fatalf("position %d, want 5", at.Index)
	}
	// An entry holding COMMIT is refused whole; its position is recorded.
	_, txErr, err = d.ApplyTx(ctx, []*Request{{Statements: []Statement{{SQL: "INSERT INTO t (r) VALUES (1)"}}}, {Statements: []Statement{{SQL: "COMMIT"}}}}, env, Applied{Index: 6, Term: 1})
	if err != nil || !errors.Is(txErr, ErrSpecStatement) {
		t.Fatalf("ApplyTx with COMMIT: %v %v", txErr, err)
	}
	out, err := d.Query(ctx, &Request{Statements: []Statement{{SQL: "SELECT COUNT(*) FROM t"}}})
	if err != nil || out[0].Values[0][0] != int64(1) {
		t.Fatalf("rows %+v %v", out, err)
	}
	if at, _ := d.Applied(ctx); at.Index != 6 {
		t.Fatalf("position %d, want 6", at.Index)
	}
}

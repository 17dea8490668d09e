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

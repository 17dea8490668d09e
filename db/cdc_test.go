package db

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// newCDCDB opens a database whose row changes go to the returned slice.
func newCDCDB(t *testing.T) (*DB, *[]EntryChanges) {
	t.Helper()
	var got []EntryChanges
	cfg := DefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "db.sqlite")
	cfg.Changes = func(es []EntryChanges) { got = append(got, es...) }
	d, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, &got
}

func entry(index uint64, reqs ...*Request) Entry {
	items := make([]Item, len(reqs))
	for i, r := range reqs {
		items[i] = Item{Req: r, Mode: ModeExecute, Env: testEnv}
	}
	return Entry{Items: items, At: Applied{Index: index, Term: 1}}
}

func req(sqls ...string) *Request { return &Request{Statements: stmts(sqls...)} }

// summary renders changes compactly: index:op table rowids before after.
func summary(es []EntryChanges) string {
	s := ""
	for _, e := range es {
		s += fmt.Sprintf("%d:", e.Index)
		for _, c := range e.Changes {
			s += fmt.Sprintf("[%s %s %d %d %v %v %v %s]", c.Op, c.Table, c.OldRowID, c.NewRowID, c.Columns, c.Before, c.After, c.Error)
		}
		s += " "
	}
	return s
}

func TestCDC_CapturesPerEntry(t *testing.T) {
	d, got := newCDCDB(t)
	ctx := context.Background()
	_, err := d.ApplyBatch(ctx, []Entry{
		entry(1, req("CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT, pic BLOB, x REAL)")),
		entry(2, req(`INSERT INTO foo VALUES (7, 'fiona', x'010203', NULL)`)),
		// Two statements and two requests in one entry: one element.
		entry(3, req(`UPDATE foo SET name = 'fi' WHERE id = 7`, `INSERT INTO foo(id, x) VALUES (8, 1.5)`),
			req(`DELETE FROM foo WHERE id = 8`)),
		entry(4, req(`SELECT * FROM foo`)), // changes nothing
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "2:[INSERT foo 0 7 [id name pic x] [] [7 fiona [1 2 3] <nil>] ] " +
		"3:[UPDATE foo 7 7 [id name pic x] [7 fiona [1 2 3] <nil>] [7 fi [1 2 3] <nil>] ]" +
		"[INSERT foo 0 8 [id name pic x] [] [8 <nil> <nil> 1.5] ][DELETE foo 8 0 [id name pic x] [8 <nil> <nil> 1.5] [] ] "
	if s := summary(*got); s != want {
		t.Fatalf("captured\n%s\nwant\n%s", s, want)
	}
	if (*got)[0].CommitTime.IsZero() {
		t.Error("no commit time")
	}
}

func TestCDC_UndoneChangesAreDropped(t *testing.T) {
	d, got := newCDCDB(t)
	ctx := context.Background()
	if _, err := d.ApplyBatch(ctx, []Entry{entry(1, req("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)", "INSERT INTO t VALUES (1, 'a')"))}); err != nil {
		t.Fatal(err)
	}
	*got = nil
	tx := req(`INSERT INTO t VALUES (2, 'b')`, `INSERT INTO t VALUES (3, 'a')`)
	tx.Transaction = true
	_, err := d.ApplyBatch(ctx, []Entry{
		// A statement that fails mid-way: its first row is undone.
		entry(2, req(`INSERT INTO t SELECT 10, 'c' UNION ALL SELECT 11, 'a'`, `INSERT INTO t VALUES (12, 'd')`)),
		// A transaction whose second statement fails: all undone.
		entry(3, tx),
		// ON CONFLICT ROLLBACK loses the batch's transaction: entries are
		// redone, and each change is reported once.
		entry(4, req(`INSERT INTO t VALUES (20, 'e')`)),
		entry(5, req(`INSERT OR ROLLBACK INTO t VALUES (21, 'a')`)),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "2:[INSERT t 0 12 [id v] [] [12 d] ] 4:[INSERT t 0 20 [id v] [] [20 e] ] "
	if s := summary(*got); s != want {
		t.Fatalf("captured\n%s\nwant\n%s", s, want)
	}
}

func TestCDC_OffInstallsNothing(t *testing.T) {
	d := newTestDB(t)
	if d.cdc != nil {
		t.Fatal("capture set up without Config.Changes")
	}
	exec(t, d, "CREATE TABLE t (x)", "INSERT INTO t VALUES (1)")
}

func TestCDC_UserRollbackDropsChanges(t *testing.T) {
	d, got := newCDCDB(t)
	ctx := context.Background()
	_, err := d.ApplyBatch(ctx, []Entry{
		entry(1, req("CREATE TABLE t (id INTEGER PRIMARY KEY)")),
		// The user's own transaction runs in autocommit mode.
		entry(2, req("INSERT INTO t VALUES (1)", "BEGIN", "INSERT INTO t VALUES (2)", "ROLLBACK", "INSERT INTO t VALUES (3)")),
		entry(3, req("BEGIN", "INSERT INTO t VALUES (4)", "COMMIT")),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "2:[INSERT t 0 1 [id] [] [1] ][INSERT t 0 3 [id] [] [3] ] 3:[INSERT t 0 4 [id] [] [4] ] "
	if s := summary(*got); s != want {
		t.Fatalf("captured\n%s\nwant\n%s", s, want)
	}
}

// An interactive transaction's changes belong to its commit entry: the
// speculative run at the leader reports nothing, the replayed commit
// reports its rows under its own index, and the next entry only its own.
func TestCDC_InteractiveTransaction(t *testing.T) {
	d, got := newCDCDB(t)
	ctx := context.Background()
	if _, err := d.ApplyBatch(ctx, []Entry{entry(1, req("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))}); err != nil {
		t.Fatal(err)
	}
	*got = nil
	reqs := []*Request{req(`INSERT INTO t VALUES (1, 'a')`), req(`UPDATE t SET v = 'b' WHERE id = 1`)}
	spec, err := d.BeginSpec(ctx, testEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range reqs {
		if _, err := spec.Run(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if _, txErr, err := d.ApplyTx(ctx, reqs, testEnv, Applied{Index: 2, Term: 1}); err != nil || txErr != nil {
		t.Fatalf("ApplyTx: %v %v", txErr, err)
	}
	if _, err := d.ApplyBatch(ctx, []Entry{entry(3, req(`INSERT INTO t VALUES (2, 'c')`))}); err != nil {
		t.Fatal(err)
	}
	want := "2:[INSERT t 0 1 [id v] [] [1 a] ][UPDATE t 1 1 [id v] [1 a] [1 b] ] 3:[INSERT t 0 2 [id v] [] [2 c] ] "
	if s := summary(*got); s != want {
		t.Fatalf("captured\n%s\nwant\n%s", s, want)
	}
	// A speculative run that is rolled back reports nothing.
	*got = nil
	spec, err = d.BeginSpec(ctx, testEnv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := spec.Run(ctx, req(`INSERT INTO t VALUES (9, 'z')`)); err != nil {
		t.Fatal(err)
	}
	spec.Rollback()
	if _, err := d.ApplyBatch(ctx, []Entry{entry(4, req(`SELECT 1`))}); err != nil {
		t.Fatal(err)
	}
	if len(*got) != 0 {
		t.Fatalf("a rolled-back speculative run was captured: %s", summary(*got))
	}
}

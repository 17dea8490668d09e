package db

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
)

// item builds an entry item in ModeExecute.
func item(tx bool, sqls ...string) Item {
	return Item{Req: &Request{Statements: stmts(sqls...), Transaction: tx}, Mode: ModeExecute, Env: testEnv}
}

// errorSlots lists which results carry an error.
func errorSlots(res [][]Result) [][]bool {
	out := make([][]bool, len(res))
	for i, rs := range res {
		for _, r := range rs {
			out[i] = append(out[i], r.Error != "")
		}
	}
	return out
}

func TestApplyEntry(t *testing.T) {
	tests := []struct {
		name      string
		items     []Item
		wantErrs  [][]bool
		wantCount int64
	}{
		{"statements fail alone", []Item{item(false,
			"INSERT INTO t VALUES(1)", "INSERT INTO t VALUES(1)", "INSERT INTO t VALUES(2)")},
			[][]bool{{false, true, false}}, 2},
		{"transaction request rolls back", []Item{item(true,
			"INSERT INTO t VALUES(1)", "INSERT INTO t VALUES(1)", "INSERT INTO t VALUES(2)")},
			[][]bool{{false, true}}, 0},
		{"requests of an entry are independent", []Item{
			item(false, "INSERT INTO t VALUES(1)"),
			item(true, "INSERT INTO t VALUES(2)", "INSERT INTO nosuch VALUES(1)"),
			item(false, "INSERT INTO t VALUES(3)")},
			[][]bool{{false}, {false, true}, {false}}, 2},
		{"on conflict rollback keeps the entry going", []Item{item(false,
			"INSERT INTO t VALUES(1)", "INSERT OR ROLLBACK INTO t VALUES(1)", "INSERT INTO t VALUES(2)")},
			[][]bool{{false, true, false}}, 2},
		{"rollback in a later request keeps earlier ones", []Item{
			item(false, "INSERT INTO t VALUES(5)"),
			item(true, "INSERT INTO t VALUES(1)", "INSERT OR ROLLBACK INTO t VALUES(1)")},
			[][]bool{{false}, {false, true}}, 1},
		{"vacuum runs outside a transaction", []Item{item(false,
			"INSERT INTO t VALUES(1)", "VACUUM", "INSERT INTO t VALUES(2)")},
			[][]bool{{false, false, false}}, 2},
		{"user transaction", []Item{item(false,
			"BEGIN", "INSERT INTO t VALUES(1)", "INSERT INTO t VALUES(2)", "COMMIT")},
			[][]bool{{false, false, false, false}}, 2},
		{"user transaction left open", []Item{item(false,
			"BEGIN", "INSERT INTO t VALUES(1)")},
			[][]bool{{false, false}}, 1},
		{"failed user transaction rolls back", []Item{item(false,
			"BEGIN; INSERT INTO t VALUES(1); INSERT INTO nosuch VALUES(2); COMMIT;")},
			[][]bool{{true}}, 0},
		{"dump text loads", []Item{item(false,
			"PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nINSERT INTO t VALUES(1);\nINSERT INTO t VALUES(2);\nCOMMIT;\n")},
			[][]bool{{false}}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDB(t)
			exec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
			want := Applied{Index: 7, Term: 3}
			res, err := d.ApplyEntry(context.Background(), tt.items, want)
			if err != nil {
				t.Fatalf("ApplyEntry: %v", err)
			}
			if got := errorSlots(res); !equalSlots(got, tt.wantErrs) {
				t.Errorf("error slots: got %v, want %v (results %+v)", got, tt.wantErrs, res)
			}
			if got := queryValues(t, d, "SELECT COUNT(*) FROM t")[0][0]; got != tt.wantCount {
				t.Errorf("rows: got %v, want %d", got, tt.wantCount)
			}
			got, err := d.Applied(context.Background())
			if err != nil || got != want {
				t.Errorf("Applied: got %+v, %v; want %+v", got, err, want)
			}
		})
	}
}

func equalSlots(a, b [][]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func TestAppliedSurvivesReopen(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	if got, err := d.Applied(ctx); err != nil || got != (Applied{}) {
		t.Fatalf("Applied on a new file: got %+v, %v; want zero", got, err)
	}
	exec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	if _, err := d.ApplyEntry(ctx, []Item{item(false, "INSERT INTO t VALUES(1)")}, Applied{Index: 9, Term: 2}); err != nil {
		t.Fatalf("ApplyEntry: %v", err)
	}
	if err := d.SetApplied(ctx, Applied{Index: 10, Term: 2}); err != nil {
		t.Fatalf("SetApplied: %v", err)
	}
	path := d.Path()
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	d2, err := Open(Config{Path: path})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer d2.Close()
	if got, err := d2.Applied(ctx); err != nil || got != (Applied{Index: 10, Term: 2}) {
		t.Errorf("Applied after reopen: got %+v, %v; want {10 2}", got, err)
	}
}

func TestAppliedTableRecreated(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	if err := d.SetApplied(ctx, Applied{Index: 1, Term: 1}); err != nil {
		t.Fatalf("SetApplied: %v", err)
	}
	want := Applied{Index: 2, Term: 1}
	if _, err := d.ApplyEntry(ctx, []Item{item(false, `DROP TABLE "`+AppliedTable+`"`)}, want); err != nil {
		t.Fatalf("ApplyEntry: %v", err)
	}
	if got, err := d.Applied(ctx); err != nil || got != want {
		t.Errorf("Applied: got %+v, %v; want %+v", got, err, want)
	}
}

func TestDumpSkipsAppliedTable(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	if err := d.SetApplied(context.Background(), Applied{Index: 1, Term: 1}); err != nil {
		t.Fatalf("SetApplied: %v", err)
	}
	var buf bytes.Buffer
	if err := d.Dump(context.Background(), &buf, nil); err != nil {
		t.Fatalf("Dump: %v", err)
	}
	if got := buf.String(); strings.Contains(got, AppliedTable) || !strings.Contains(got, "CREATE TABLE t") {
		t.Errorf("dump:\n%s", got)
	}
}

// TestApplyEntryKeepsStickyCounters: the applied-index write must not
// change what a later DDL statement reports (rqlite's sticky counters).
func TestApplyEntryKeepsStickyCounters(t *testing.T) {
	d := newTestDB(t)
	ctx := context.Background()
	exec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	entries := [][]string{
		{"INSERT INTO t VALUES(7)", "INSERT INTO t VALUES(8)"},
		{"CREATE TABLE u (x)"},
		{"DELETE FROM t"},
		{"CREATE TABLE v (x)"},
	}
	want := []Result{{LastInsertID: 8, RowsAffected: 1}, {LastInsertID: 8, RowsAffected: 1},
		{LastInsertID: 8, RowsAffected: 2}, {LastInsertID: 8, RowsAffected: 2}}
	for i, sqls := range entries {
		res, err := d.ApplyEntry(ctx, []Item{item(false, sqls...)}, Applied{Index: uint64(10 + i), Term: 1})
		if err != nil {
			t.Fatalf("ApplyEntry: %v", err)
		}
		got := res[0][len(res[0])-1]
		got.Time = 0
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("entry %d (%v): got %+v, want %+v", i, sqls, got, want[i])
		}
	}
}

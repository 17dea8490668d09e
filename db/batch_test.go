package db

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// batchLog is a log whose entries exercise everything that could make a
// database depend on where batches start and end: failing statements,
// transaction requests that roll back, ON CONFLICT ROLLBACK (which rolls
// back the whole SQLite transaction), statements that must run in
// autocommit mode, DDL, deferred foreign keys broken in one entry and
// repaired in the next, and functions of the connection's state
// (changes(), last_insert_rowid(), RANDOM(), 'now').
func batchLog() []Entry {
	reqs := [][]Item{
		{item(false, "CREATE TABLE t (id INTEGER PRIMARY KEY, v, c, r, n)",
			"CREATE TABLE parent (id INTEGER PRIMARY KEY)",
			"CREATE TABLE child (id INTEGER PRIMARY KEY, p REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")},
		{item(false, "INSERT INTO t(v, c, r, n) VALUES('a', changes(), last_insert_rowid(), datetime('now'))")},
		{item(false, "INSERT INTO t(v, c, r, n) VALUES('b', changes(), last_insert_rowid(), RANDOM())")},
		{item(false, "INSERT INTO t(id, v) VALUES(1, 'dup')", "INSERT INTO t(v, c) VALUES('c', changes())")},
		{item(true, "INSERT INTO t(v) VALUES('tx1')", "INSERT INTO nosuch VALUES(1)")},
		{item(false, "INSERT INTO t(v, c, r) VALUES('d', changes(), last_insert_rowid())")},
		{item(false, "INSERT INTO t(v) VALUES('e')", "INSERT OR ROLLBACK INTO t(id, v) VALUES(1, 'x')", "INSERT INTO t(v) VALUES('f')")},
		{item(false, "UPDATE t SET c = changes() WHERE v = 'a'")},
		{item(false, "UPDATE t SET n = coalesce(n, 0) WHERE id > 1")}, // changes() is 3 after it
		{item(false, "INSERT INTO t(v, c, r) VALUES('m', changes(), last_insert_rowid())")},
		{item(false, "INSERT INTO child VALUES(1, 7)")}, // fails alone at COMMIT
		{item(false, "INSERT INTO parent VALUES(7)")},   // would repair it in a shared transaction
		{item(false, "INSERT INTO child VALUES(2, 7)")},
		{item(false, "PRAGMA foreign_keys"), item(false, "INSERT INTO t(v, c) VALUES('g', changes())")},
		{item(false, "BEGIN", "INSERT INTO t(v) VALUES('h')", "COMMIT")},
		{item(false, "INSERT INTO t(v, c, r) VALUES('i', changes(), last_insert_rowid())")},
		{item(false, "ALTER TABLE t ADD COLUMN w"), item(false, "UPDATE t SET w = id * 2")},
		{item(false, "INSERT INTO t(v, r) VALUES('j', RANDOMBLOB(8))")},
		{item(false, "DELETE FROM t WHERE v = 'b'"), item(false, "INSERT INTO t(v, c) VALUES('k', changes())")},
	}
	var entries []Entry
	for i, items := range reqs {
		index := uint64(10 + i)
		for k := range items {
			items[k].Env = Env{Seed: index + uint64(k)<<48, Now: testEnv.Now.Add(time.Duration(i) * time.Second)}
		}
		entries = append(entries, Entry{Items: items, At: Applied{Index: index, Term: 1}})
	}
	// A configuration entry only moves the position.
	return append(entries, Entry{At: Applied{Index: uint64(10 + len(reqs)), Term: 1}})
}

// applyInBatches applies entries to a fresh database (foreign keys
// enforced if fk), cutting the log at each given length in turn, and returns the database
// and the results without timings.
func applyInBatches(t *testing.T, fk bool, entries []Entry, cuts []int) (*DB, [][][]Result) {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "db.sqlite")
	cfg.FKConstraints = fk
	d, err := Open(cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	var out [][][]Result
	for i, c := 0, 0; i < len(entries); c++ {
		n := len(entries) - i
		if c < len(cuts) {
			n = min(cuts[c], n)
		}
		res, err := d.ApplyBatch(context.Background(), entries[i:i+n])
		if err != nil {
			t.Fatalf("ApplyBatch(%d..%d): %v", i, i+n, err)
		}
		out = append(out, res...)
		i += n
	}
	return d, out
}

// dumpOf is d's SQL dump plus its recorded position.
func dumpOf(t *testing.T, d *DB) string {
	t.Helper()
	var buf bytes.Buffer
	if err := d.Dump(context.Background(), &buf, nil); err != nil {
		t.Fatalf("Dump: %v", err)
	}
	at, err := d.Applied(context.Background())
	if err != nil {
		t.Fatalf("Applied: %v", err)
	}
	return fmt.Sprintf("%s-- applied %+v\n", buf.String(), at)
}

// TestApplyBatch_BoundariesDoNotMatter: the same log applied one entry at
// a time, all at once, and cut at random places yields the same database,
// the same position and the same results everywhere, with foreign keys
// enforced (the deferred ones make entries commit alone) and without
// (entries share transactions).
func TestApplyBatch_BoundariesDoNotMatter(t *testing.T) {
	for _, fk := range []bool{false, true} {
		t.Run(fmt.Sprintf("fk=%v", fk), func(t *testing.T) { testBoundaries(t, fk) })
	}
}

func testBoundaries(t *testing.T, fk bool) {
	log := batchLog()
	ones := make([]int, len(log))
	for i := range ones {
		ones[i] = 1
	}
	ref, refRes := applyInBatches(t, fk, log, ones)
	want := dumpOf(t, ref)
	for _, bad := range []string{"'dup'", "'tx1'", "'x'"} {
		if strings.Contains(want, bad) {
			t.Errorf("reference database holds %s, which must have failed:\n%s", bad, want)
		}
	}
	if fk && strings.Contains(want, `"child" VALUES(1,7)`) {
		t.Errorf("a child inserted before its parent survived its entry's COMMIT:\n%s", want)
	}
	splits := map[string][]int{"one batch": {len(log)}}
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range 8 {
		var cuts []int
		for range len(log) {
			cuts = append(cuts, 1+rng.IntN(5))
		}
		splits[fmt.Sprintf("random %d", k)] = cuts
	}
	for name, cuts := range splits {
		t.Run(name, func(t *testing.T) {
			d, res := applyInBatches(t, fk, log, cuts)
			if got := dumpOf(t, d); got != want {
				t.Errorf("database differs (cuts %v)\n got: %s\nwant: %s", cuts, got, want)
			}
			if !reflect.DeepEqual(res, refRes) {
				t.Errorf("results differ (cuts %v)\n got: %+v\nwant: %+v", cuts, res, refRes)
			}
		})
	}
}

// TestApplyBatch_FailureStaysInItsRequest: requests batched with a failing
// request (a statement error, a rolled-back transaction, ON CONFLICT
// ROLLBACK) keep their effects and report their own results.
func TestApplyBatch_FailureStaysInItsRequest(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE t (id INTEGER PRIMARY KEY)")
	entries := []Entry{
		{Items: []Item{item(false, "INSERT INTO t VALUES(1)")}, At: Applied{Index: 5, Term: 1}},
		{Items: []Item{item(true, "INSERT INTO t VALUES(2)", "INSERT INTO t VALUES(1)")}, At: Applied{Index: 6, Term: 1}},
		{Items: []Item{item(false, "INSERT INTO t VALUES(3)")}, At: Applied{Index: 7, Term: 1}},
		{Items: []Item{item(false, "INSERT OR ROLLBACK INTO t VALUES(1)")}, At: Applied{Index: 8, Term: 1}},
		{Items: []Item{item(false, "INSERT INTO t VALUES(4)")}, At: Applied{Index: 9, Term: 1}},
	}
	res, err := d.ApplyBatch(context.Background(), entries)
	if err != nil {
		t.Fatalf("ApplyBatch: %v", err)
	}
	wantErrs := [][]bool{{false}, {false, true}, {false}, {true}, {false}}
	for i := range entries {
		if got := errorSlots(res[i]); !reflect.DeepEqual(got[0], wantErrs[i]) {
			t.Errorf("entry %d: error slots %v, want %v (%+v)", i, got[0], wantErrs[i], res[i])
		}
	}
	if got := queryValues(t, d, "SELECT group_concat(id) FROM (SELECT id FROM t ORDER BY id)"); got[0][0] != "1,3,4" {
		t.Errorf("rows %v, want 1,3,4", got[0][0])
	}
	if at, _ := d.Applied(context.Background()); at.Index != 9 {
		t.Errorf("applied %+v, want index 9", at)
	}
}

// TestApplyBatch_ReopenDoesNotMatter: a node that closes and reopens its
// database between entries (a restart, or a snapshot restore that swaps
// the file) ends with the same database and results as one that never
// did: the connection state later entries read (last_insert_rowid(),
// changes(), rows_affected) is kept in the file with the position.
func TestApplyBatch_ReopenDoesNotMatter(t *testing.T) {
	log := batchLog()
	ref, refRes := applyInBatches(t, false, log, []int{len(log)})
	want := dumpOf(t, ref)
	path := filepath.Join(t.TempDir(), "db.sqlite")
	var res [][][]Result
	var d *DB
	for i := range log {
		cfg := DefaultConfig()
		cfg.Path = path
		var err error
		if d, err = Open(cfg); err != nil {
			t.Fatalf("Open before entry %d: %v", i, err)
		}
		r, err := d.ApplyBatch(context.Background(), log[i:i+1])
		if err != nil {
			t.Fatalf("ApplyBatch(entry %d): %v", i, err)
		}
		res = append(res, r...)
		if i < len(log)-1 {
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Cleanup(func() { d.Close() })
	if got := dumpOf(t, d); got != want {
		t.Errorf("database differs after reopening between entries\n got: %s\nwant: %s", got, want)
	}
	if !reflect.DeepEqual(res, refRes) {
		t.Errorf("results differ after reopening between entries\n got: %+v\nwant: %+v", res, refRes)
	}
}

// A file written before the connection state was kept (the position
// table without its columns) opens, gains them, and starts from zero.
func TestOpen_UpgradesAppliedTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	cfg := DefaultConfig()
	cfg.Path = path
	d, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE "` + AppliedTable + `" (id INTEGER PRIMARY KEY CHECK (id = 1), raft_index INTEGER NOT NULL, raft_term INTEGER NOT NULL) WITHOUT ROWID`,
		`INSERT INTO "` + AppliedTable + `" VALUES (1, 7, 2)`,
		"CREATE TABLE t (x)",
	} {
		if _, err := d.wconn.ExecContext(context.Background(), q); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d, err = Open(cfg); err != nil {
		t.Fatalf("Open of an old-format file: %v", err)
	}
	defer d.Close()
	if at, err := d.Applied(context.Background()); err != nil || at != (Applied{Index: 7, Term: 2}) {
		t.Fatalf("Applied = %+v, %v; want index 7 term 2", at, err)
	}
	entry := Entry{Items: []Item{item(false, "INSERT INTO t VALUES (last_insert_rowid())")}, At: Applied{Index: 8, Term: 2}}
	if _, err := d.ApplyBatch(context.Background(), []Entry{entry}); err != nil {
		t.Fatalf("ApplyBatch on the upgraded file: %v", err)
	}
	if got := queryValues(t, d, "SELECT x FROM t"); len(got) != 1 || got[0][0] != int64(0) {
		t.Fatalf("last_insert_rowid() after upgrade = %v, want 0", got)
	}
}

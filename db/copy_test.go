package db

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// count returns SELECT COUNT(*) FROM foo on d's read pool.
func count(t *testing.T, d *DB) int64 {
	t.Helper()
	return queryValues(t, d, "SELECT COUNT(*) FROM foo")[0][0].(int64)
}

// openCopy opens a copied file as its own DB and returns its row count.
func openCopy(t *testing.T, path string) int64 {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Path = path
	c, err := Open(cfg)
	if err != nil {
		t.Fatalf("open copy: %v", err)
	}
	defer c.Close()
	return count(t, c)
}

// startWriter inserts into foo until stopped (at most 100,000 rows); it
// returns the count of rows inserted so far and a stop function that
// waits for the writer to finish.
func startWriter(t *testing.T, d *DB) (*atomic.Int64, func()) {
	t.Helper()
	var inserted atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		req := &Request{Statements: stmts(`INSERT INTO foo(name) VALUES("w")`)}
		for i := 0; i < 100000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			res, err := d.Apply(context.Background(), req, ModeExecute, testEnv)
			if err != nil || res[0].Error != "" {
				t.Errorf("insert: %v %+v", err, res)
				return
			}
			inserted.Add(1)
		}
	}()
	return &inserted, func() { close(stop); <-done }
}

func TestDB_CopyToRestore_WhileWriting(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	ctx := context.Background()
	inserted, stop := startWriter(t, d)
	waitFor(t, 10*time.Second, func() bool { return inserted.Load() >= 50 })
	copyPath := filepath.Join(t.TempDir(), "copy.sqlite")
	before := inserted.Load()
	if err := d.CopyTo(ctx, copyPath); err != nil {
		t.Fatalf("CopyTo: %v", err)
	}
	after := inserted.Load()
	waitFor(t, 10*time.Second, func() bool { return inserted.Load() > after }) // writes went on
	stop()
	copied := openCopy(t, copyPath)
	if copied < before || copied > after+1 {
		t.Errorf("copy has %d rows, want between %d and %d", copied, before, after+1)
	}
	if err := d.Restore(copyPath); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if got := count(t, d); got != copied {
		t.Errorf("after Restore: %d rows, want %d", got, copied)
	}
	if _, err := os.Stat(copyPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("restored file still at %s: %v", copyPath, err)
	}
	// Writable, WAL mode, PRAGMAs reapplied.
	exec(t, d, `INSERT INTO foo(name) VALUES("after")`)
	if got := count(t, d); got != copied+1 {
		t.Errorf("write after Restore: %d rows, want %d", got, copied+1)
	}
	st, err := d.Stats()
	if err != nil {
		t.Fatal(err)
	}
	rw := st["pragmas"].(map[string]any)["rw"].(map[string]any)
	if rw["journal_mode"] != "wal" || rw["wal_autocheckpoint"] != "0" {
		t.Errorf("pragmas after Restore: %v", rw)
	}
}

func TestDB_Restore_NotSQLite(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	bad := filepath.Join(t.TempDir(), "bad")
	if err := os.WriteFile(bad, []byte("this is not a database at all"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := d.Restore(bad); !errors.Is(err, ErrNotSQLite) {
		t.Fatalf("got %v, want ErrNotSQLite", err)
	}
	exec(t, d, `INSERT INTO foo(name) VALUES("still works")`)
}

func TestDB_Restore_ConcurrentReads(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo, `INSERT INTO foo(name) VALUES("a")`)
	copyPath := filepath.Join(t.TempDir(), "copy.sqlite")
	ctx := context.Background()
	if err := d.CopyTo(ctx, copyPath); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 200; i++ {
			res, err := d.Query(ctx, &Request{Statements: stmts("SELECT COUNT(*) FROM foo")})
			if err != nil || res[0].Error != "" {
				t.Errorf("query during restore: %v %+v", err, res)
				return
			}
		}
	}()
	if err := d.Restore(copyPath); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
}

func TestDB_CheckpointAndWALSize(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, createFoo)
	for i := 0; i < 20; i++ {
		exec(t, d, `INSERT INTO foo(name) VALUES("x")`)
	}
	size, err := d.WALSize()
	if err != nil || size == 0 {
		t.Fatalf("WALSize before checkpoint: %d, %v; want > 0", size, err)
	}
	if err := d.Checkpoint(context.Background()); err != nil {
		t.Fatalf("Checkpoint: %v", err)
	}
	if size, err := d.WALSize(); err != nil || size != 0 {
		t.Errorf("WALSize after checkpoint: %d, %v; want 0", size, err)
	}
	if got := count(t, d); got != 20 {
		t.Errorf("rows: %d", got)
	}
}

func TestDB_Stats(t *testing.T) {
	for _, fk := range []bool{false, true} {
		cfg := DefaultConfig()
		cfg.Path = filepath.Join(t.TempDir(), "db.sqlite")
		cfg.FKConstraints = fk
		d, err := Open(cfg)
		if err != nil {
			t.Fatal(err)
		}
		st, err := d.Stats()
		d.Close()
		if err != nil {
			t.Fatal(err)
		}
		wantFK := map[bool]string{false: "0", true: "1"}[fk]
		want := map[string]any{
			// ro as rqlite reports it (API.md §1.7); rw as rdb's design needs.
			"ro": map[string]any{"busy_timeout": "5000", "foreign_keys": wantFK, "journal_mode": "wal", "synchronous": "0", "wal_autocheckpoint": "1000"},
			"rw": map[string]any{"busy_timeout": "5000", "foreign_keys": wantFK, "journal_mode": "wal", "synchronous": "1", "wal_autocheckpoint": "0"},
		}
		if got := st["pragmas"]; !reflect.DeepEqual(got, want) {
			t.Errorf("fk=%v pragmas: got %v, want %v", fk, got, want)
		}
		if _, ok := st["fk_constraints"].(string); !ok {
			t.Errorf("fk_constraints is %T, want a string", st["fk_constraints"])
		}
		if v, _ := st["version"].(string); !strings.HasPrefix(v, "3.") {
			t.Errorf("version %q", v)
		}
		if st["path"] != cfg.Path || st["db_size"].(int64) <= 0 || st["size"].(int64) < 0 {
			t.Errorf("stats: %v", st)
		}
	}
}

func TestDB_ForeignKeys(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "db.sqlite")
	cfg.FKConstraints = true
	d, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	exec(t, d, createFoo, "CREATE TABLE child (pid INTEGER REFERENCES foo(id))")
	res := apply(t, d, &Request{Statements: stmts("INSERT INTO child VALUES(99)")}, ModeExecute, testEnv)
	if res[0].Error != "FOREIGN KEY constraint failed" {
		t.Errorf("got %+v, want a foreign key failure", res)
	}
}

func TestDB_Ping(t *testing.T) {
	d := newTestDB(t)
	if err := d.Ping(context.Background()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}

func TestDB_Dump(t *testing.T) {
	d := newTestDB(t)
	exec(t, d,
		"CREATE TABLE foo (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, b BLOB, r REAL)",
		`INSERT INTO foo(name, b, r) VALUES("it's", x'0102', 1.5)`,
		"INSERT INTO foo(name) VALUES(NULL)",
		"CREATE TABLE bar (x)",
		"CREATE INDEX foo_name ON foo(name)",
		"CREATE VIEW v AS SELECT name FROM foo",
	)
	var b strings.Builder
	if err := d.Dump(context.Background(), &b, nil); err != nil {
		t.Fatal(err)
	}
	want := `PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE bar (x);
CREATE TABLE foo (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, b BLOB, r REAL);
INSERT INTO "foo" VALUES(1,'it''s',X'0102',1.5);
INSERT INTO "foo" VALUES(2,NULL,NULL,NULL);
DELETE FROM "sqlite_sequence";
INSERT INTO "sqlite_sequence" VALUES('foo',2);
CREATE INDEX foo_name ON foo(name);
CREATE VIEW v AS SELECT name FROM foo;
COMMIT;
`
	full := b.String()
	if full != want {
		t.Errorf("dump:\n%s\nwant:\n%s", full, want)
	}
	b.Reset()
	if err := d.Dump(context.Background(), &b, []string{"bar"}); err != nil {
		t.Fatal(err)
	}
	if want := "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\nCREATE TABLE bar (x);\nCOMMIT;\n"; b.String() != want {
		t.Errorf("dump bar:\n%s\nwant:\n%s", b.String(), want)
	}
	// The dump loads into a fresh database as one multi-statement string.
	d2 := newTestDB(t)
	if res := apply(t, d2, &Request{Statements: stmts(full)}, ModeExecute, testEnv); res[0].Error != "" {
		t.Fatalf("load dump: %+v", res)
	}
	if got := queryValues(t, d2, "SELECT name, b FROM foo ORDER BY id"); !reflect.DeepEqual(got, [][]any{{"it's", []byte{1, 2}}, {nil, nil}}) {
		t.Errorf("loaded rows: %#v", got)
	}
}

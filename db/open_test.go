package db

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestDB_ReadConns_NeverCheckpoint fills the WAL past the read-only
// connections' wal_autocheckpoint (1000 frames) and reads through them: no
// frame may reach the database file, since only the store checkpoints
// (incremental snapshots copy the WAL).
func TestDB_ReadConns_NeverCheckpoint(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE big (b BLOB)")
	for range 3 {
		exec(t, d, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 600)
			INSERT INTO big SELECT zeroblob(4000) FROM n`)
	}
	size := func(suffix string) int64 {
		fi, err := os.Stat(d.cfg.Path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if wal := size("-wal"); wal < 1500*4096 {
		t.Fatalf("WAL is %d bytes, want over 1500 pages", wal)
	}
	before := size("")
	for range 8 {
		if got := queryValues(t, d, "SELECT COUNT(*) FROM big"); len(got) != 1 || got[0][0] != int64(1800) {
			t.Fatalf("count: %v", got)
		}
	}
	if after := size(""); after != before {
		t.Errorf("database file grew from %d to %d bytes after reads: a read connection checkpointed", before, after)
	}
}

// TestDB_CopyTo_RestoreDoesNotStallQueries starts a long copy, then a
// Restore: while the Restore waits for the copy, queries still run (the
// Restore must not queue on the lock every query takes), and both the
// copy and the Restore succeed.
func TestDB_CopyTo_RestoreDoesNotStallQueries(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE big (b BLOB)", `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20000)
		INSERT INTO big SELECT zeroblob(2000) FROM n`)
	ctx := context.Background()
	replacement := filepath.Join(t.TempDir(), "replacement.sqlite")
	if err := d.CopyTo(ctx, replacement); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "backup.sqlite")
	copyDone, restoreDone := make(chan error, 1), make(chan error, 1)
	go func() { copyDone <- d.CopyTo(ctx, target) }()
	waitFor(t, 10*time.Second, func() bool { _, err := os.Stat(target); return err == nil })
	go func() { restoreDone <- d.Restore(replacement) }()
	// Queries while the copy runs: a Restore queued on the query lock
	// would hold every one after the first until the copy ends.
	served := 0
	for copying := true; copying && served < 10000; served++ {
		res, err := d.Query(ctx, &Request{Statements: stmts("SELECT 1")})
		if err != nil || res[0].Error != "" {
			t.Fatalf("query: %v %+v", err, res)
		}
		select {
		case err := <-copyDone:
			copyDone <- err
			copying = false
		default:
		}
	}
	if served < 5 {
		t.Errorf("%d queries served while a copy and a Restore were under way, want them to go on", served)
	}
	if err := <-copyDone; err != nil {
		t.Errorf("copy: %v", err)
	}
	if err := <-restoreDone; err != nil {
		t.Errorf("restore: %v", err)
	}
	if got := queryValues(t, d, "SELECT COUNT(*) FROM big"); got[0][0] != int64(20000) {
		t.Errorf("after restore: %v rows", got)
	}
}

// TestDB_CopyTo_TimeoutMatches checks that a copy cut short by its
// context's deadline is an error matching context.DeadlineExceeded.
func TestDB_CopyTo_TimeoutMatches(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE big (b BLOB)", `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 20000)
		INSERT INTO big SELECT zeroblob(2000) FROM n`)
	conn, err := d.ro.Conn(context.Background()) // warm the pool: the deadline must hit the copy
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	err = d.CopyTo(ctx, filepath.Join(t.TempDir(), "backup.sqlite"))
	if err == nil {
		t.Skip("the copy finished within 5ms: nothing to check")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want an error matching context.DeadlineExceeded", err)
	}
}

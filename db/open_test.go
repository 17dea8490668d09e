package db

import (
	"os"
	"testing"
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

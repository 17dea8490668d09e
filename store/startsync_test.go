package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

// copyDBFile copies the database file of a closed node in dir to dst.
func copyDBFile(t *testing.T, dir, dst string) {
	t.Helper()
	if err := copyFile(filepath.Join(dir, sqliteName), dst); err != nil {
		t.Fatal(err)
	}
}

// putDBFile replaces the database of a closed node in dir with src.
func putDBFile(t *testing.T, dir, src string) {
	t.Helper()
	path := filepath.Join(dir, sqliteName)
	if err := removeDBFiles(path); err != nil {
		t.Fatal(err)
	}
	if err := copyFile(src, path); err != nil {
		t.Fatal(err)
	}
}

// TestStore_Open_StaleOrForeignFile: a database file older than the
// newest snapshot (as after a power loss) is brought forward from the
// snapshot, and one that does not come from this log is rebuilt; either
// way the node ends with exactly its log's rows.
func TestStore_Open_StaleOrForeignFile(t *testing.T) {
	tests := []struct {
		name        string
		foreign     bool
		wantRestore bool
	}{
		{"older than the snapshot", false, true},
		{"from another log", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			dir, addr := t.TempDir(), raft.NewInmemAddr()
			old := filepath.Join(t.TempDir(), "old.sqlite")
			n := startNode(t, fileConfig(t, dir, nil), addr, false)
			mustExecute(t, n.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)")
			if tt.foreign {
				other := t.TempDir()
				o := startNode(t, fileConfig(t, other, nil), raft.NewInmemAddr(), false)
				mustExecute(t, o.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)")
				for i := range 30 {
					mustExecute(t, o.Store, fmt.Sprintf(`INSERT INTO foo(name) VALUES("other%d")`, i))
				}
				if err := o.Close(ctx); err != nil {
					t.Fatal(err)
				}
				copyDBFile(t, other, old)
			} else {
				if err := n.Close(ctx); err != nil {
					t.Fatal(err)
				}
				copyDBFile(t, dir, old)
				n = startNode(t, fileConfig(t, dir, nil), addr, false)
			}
			for i := range 5 {
				mustExecute(t, n.Store, fmt.Sprintf(`INSERT INTO foo(name) VALUES("name%d")`, i))
			}
			if !tt.foreign {
				if err := n.Snapshot(0); err != nil {
					t.Fatalf("Snapshot: %v", err)
				}
			}
			want := queryValues(t, n.Store, LevelNone, "SELECT * FROM foo ORDER BY id")
			if err := n.Close(ctx); err != nil {
				t.Fatal(err)
			}
			putDBFile(t, dir, old)
			before := counter(t, numRestoresStart)
			n = startNode(t, fileConfig(t, dir, nil), addr, false)
			if got := counter(t, numRestoresStart) > before; got != tt.wantRestore {
				t.Errorf("restored the snapshot at start = %v, want %v", got, tt.wantRestore)
			}
			got := queryValues(t, n.Store, LevelLinearizable, "SELECT * FROM foo ORDER BY id")
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("rows after restart = %v, want %v", got, want)
			}
		})
	}
}

func TestStore_Open_UnreadableFile(t *testing.T) {
	ctx := context.Background()
	dir, addr := t.TempDir(), raft.NewInmemAddr()
	n := startNode(t, fileConfig(t, dir, nil), addr, false)
	mustExecute(t, n.Store, "CREATE TABLE foo (x)", "INSERT INTO foo VALUES(1)")
	if err := n.Close(ctx); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("SQLite format 3\x00 but then nothing sensible at all, just text"), 0o644); err != nil {
		t.Fatal(err)
	}
	putDBFile(t, dir, garbage)
	n = startNode(t, fileConfig(t, dir, nil), addr, false)
	if got := queryValues(t, n.Store, LevelLinearizable, "SELECT x FROM foo"); !reflect.DeepEqual(got, [][]any{{int64(1)}}) {
		t.Fatalf("rows after restart = %v", got)
	}
}

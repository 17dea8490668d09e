package db

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestDB_Restore_SyncsDirAfterRename: the restored file is renamed over
// the database and then its directory is synced, so a power loss cannot
// undo the rename once Restore returned (issue 10, point 7).
func TestDB_Restore_SyncsDirAfterRename(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE t (x)", "INSERT INTO t VALUES(1)")
	src := filepath.Join(filepath.Dir(d.Path()), "upload.sqlite")
	if err := d.CopyTo(context.Background(), src); err != nil {
		t.Fatalf("CopyTo: %v", err)
	}
	var synced []string
	orig := syncParent
	t.Cleanup(func() { syncParent = orig })
	syncParent = func(path string) error {
		if _, err := os.Stat(src); err == nil {
			t.Errorf("directory of %s synced before the rename", path)
		}
		synced = append(synced, path)
		return orig(path)
	}
	if err := d.Restore(src); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if !slices.Contains(synced, d.Path()) {
		t.Errorf("synced %v, want the directory of %s after the rename", synced, d.Path())
	}
	if got := queryValues(t, d, "SELECT x FROM t"); len(got) != 1 {
		t.Errorf("restored rows %v", got)
	}
}

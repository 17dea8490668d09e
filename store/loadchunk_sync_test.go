package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recordingDirOps is osDirOps that records the order of the operations.
type recordingDirOps struct {
	osDirOps
	ops []string
}

func (r *recordingDirOps) Rename(oldpath, newpath string) error {
	r.ops = append(r.ops, "rename "+oldpath+" "+newpath)
	return r.osDirOps.Rename(oldpath, newpath)
}

func (r *recordingDirOps) SyncDir(path string) error {
	r.ops = append(r.ops, "syncdir "+path)
	return r.osDirOps.SyncDir(path)
}

// checkRenamesSynced checks that every rename in ops is followed at once
// by an fsync of the directory it renamed into, and of the one it renamed
// from when that differs.
func checkRenamesSynced(t *testing.T, ops []string) {
	t.Helper()
	renames := 0
	for i, op := range ops {
		f := strings.Fields(op)
		if f[0] != "rename" {
			continue
		}
		renames++
		want := []string{"syncdir " + filepath.Dir(f[2])}
		if filepath.Dir(f[1]) != filepath.Dir(f[2]) {
			want = append(want, "syncdir "+filepath.Dir(f[1]))
		}
		for j, w := range want {
			if i+1+j >= len(ops) || ops[i+1+j] != w {
				t.Errorf("op %d %q: not followed by %q (ops %q)", i, op, w, ops)
			}
		}
	}
	if renames == 0 {
		t.Fatalf("no rename recorded: %q", ops)
	}
}

// TestLoadChunk_RenamesAreSynced checks the staged load's renames (its
// recorded position, and the staged file moving into the swap-in
// directory) are made durable before the chunk's entry is recorded as
// applied (issue 10, point 7).
func TestLoadChunk_RenamesAreSynced(t *testing.T) {
	dataDir := t.TempDir()
	t.Run("staged position", func(t *testing.T) {
		ops := &recordingDirOps{}
		path := filepath.Join(dataDir, stageName+".json")
		if err := writeFileSync(ops, path, stageMeta{ID: "x", Next: 1, Size: 3}); err != nil {
			t.Fatal(err)
		}
		checkRenamesSynced(t, ops.ops)
	})
	t.Run("staged file swapped in", func(t *testing.T) {
		staged := filepath.Join(dataDir, stageName)
		if err := os.WriteFile(staged, []byte("db"), 0o600); err != nil {
			t.Fatal(err)
		}
		swapDir := t.TempDir()
		ops := &recordingDirOps{}
		if err := renameDurable(ops, staged, filepath.Join(swapDir, sqliteName)); err != nil {
			t.Fatal(err)
		}
		checkRenamesSynced(t, ops.ops)
	})
}

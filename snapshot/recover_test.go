package snapshot

import (
	"os"
	"path/filepath"
	"testing"
)

// leftoverStore holds a base at 10 ("A") and incremental snapshots at 20
// ("B") and 30 ("C"), and returns its directory and their directories.
func leftoverStore(t *testing.T) (string, map[uint64]string) {
	t.Helper()
	dir := t.TempDir()
	s, err := NewStore(crashConfig(dir, unionWAL))
	if err != nil {
		t.Fatal(err)
	}
	steps := crashScenario()[:3]
	for _, st := range steps {
		if err := st.run(s); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	dirs := map[uint64]string{10: filepath.Join(s.Dir(), baseDir)}
	names, err := s.walNames()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		index, _ := walIndex(name)
		dirs[index] = filepath.Join(s.Dir(), name)
	}
	return dir, dirs
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestStore_OpenResolvesLeftovers builds the directories a crash (or a
// damaged disk) can leave and checks that NewStore opens them, keeping
// the newest usable chain and setting aside the rest (issue 10).
func TestStore_OpenResolvesLeftovers(t *testing.T) {
	tests := []struct {
		name      string
		damage    func(t *testing.T, snaps string, dirs map[uint64]string)
		wantIndex uint64 // 0: no snapshot left
		wantData  string
	}{
		{"nothing", func(*testing.T, string, map[uint64]string) {}, 30, "ABC"},
		{"folded incremental snapshot half deleted", func(t *testing.T, snaps string, _ map[uint64]string) {
			half := filepath.Join(snaps, walPrefix+"1-5-1")
			must(t, os.Mkdir(half, 0o755))
			must(t, os.WriteFile(filepath.Join(half, dataFile), []byte("X"), 0o644))
		}, 30, "ABC"},
		{"newest incremental snapshot without meta", func(t *testing.T, _ string, d map[uint64]string) {
			must(t, os.Remove(filepath.Join(d[30], metaFile)))
		}, 20, "AB"},
		{"truncated meta under a later snapshot", func(t *testing.T, _ string, d map[uint64]string) {
			must(t, os.Truncate(filepath.Join(d[20], metaFile), 5))
		}, 10, "A"},
		{"incremental snapshot without data", func(t *testing.T, _ string, d map[uint64]string) {
			must(t, os.Remove(filepath.Join(d[20], dataFile)))
		}, 10, "A"},
		{"truncated base meta", func(t *testing.T, _ string, d map[uint64]string) {
			must(t, os.Truncate(filepath.Join(d[10], metaFile), 3))
		}, 0, ""},
		{"base without data", func(t *testing.T, _ string, d map[uint64]string) {
			must(t, os.Remove(filepath.Join(d[10], dataFile)))
		}, 0, ""},
		{"new base installed halfway", func(t *testing.T, snaps string, d map[uint64]string) {
			must(t, os.Rename(d[10], filepath.Join(snaps, baseNewDir)))
		}, 10, "A"},
		{"partial, garbage and temp files", func(t *testing.T, snaps string, d map[uint64]string) {
			for _, name := range []string{tmpPrefix + "1-40-1", gcPrefix + "x-" + walPrefix + "1-9-1"} {
				must(t, os.Mkdir(filepath.Join(snaps, name), 0o755))
			}
			must(t, os.WriteFile(filepath.Join(d[10], metaFile+".tmp"), []byte("{"), 0o644))
		}, 30, "ABC"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, dirs := leftoverStore(t)
			tt.damage(t, filepath.Join(dir, "snapshots"), dirs)
			s, err := NewStore(crashConfig(dir, unionWAL))
			if err != nil {
				t.Fatalf("NewStore: %v", err)
			}
			metas, err := s.List()
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if tt.wantIndex == 0 {
				if len(metas) != 0 || s.HasBase() {
					t.Fatalf("List() = %d snapshots, HasBase %v; want none", len(metas), s.HasBase())
				}
				checkNoLeftovers(t, s)
				return
			}
			if len(metas) == 0 {
				t.Fatalf("List() is empty, want newest at %d", tt.wantIndex)
			}
			if m, data := opened(t, s, metas[0].ID); m.Index != tt.wantIndex || data != tt.wantData {
				t.Fatalf("newest = %d %q, want %d %q", m.Index, data, tt.wantIndex, tt.wantData)
			}
			checkNoLeftovers(t, s)
		})
	}
}

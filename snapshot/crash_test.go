package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

var errCrash = errors.New("crashed")

// crashOps is fileOps on the real file system that records each operation
// and, from step crashAt on (0: never), fails every one: the store stops
// there as if the process had been killed, and is abandoned.
type crashOps struct {
	osOps
	ops     []string
	step    int
	crashAt int
}

func (c *crashOps) do(op string, paths ...string) error {
	c.step++
	if c.crashAt > 0 && c.step >= c.crashAt {
		return errCrash
	}
	c.ops = append(c.ops, op+" "+strings.Join(paths, " "))
	return nil
}

func (c *crashOps) crashed() bool { return c.crashAt > 0 && c.step >= c.crashAt }

func (c *crashOps) MkdirAll(p string) error {
	if err := c.do("mkdir", p); err != nil {
		return err
	}
	return c.osOps.MkdirAll(p)
}

func (c *crashOps) Create(p string) (*os.File, error) {
	if err := c.do("create", p); err != nil {
		return nil, err
	}
	return c.osOps.Create(p)
}

func (c *crashOps) Rename(a, b string) error {
	if err := c.do("rename", a, b); err != nil {
		return err
	}
	return c.osOps.Rename(a, b)
}

func (c *crashOps) Remove(p string) error {
	if err := c.do("remove", p); err != nil {
		return err
	}
	return c.osOps.Remove(p)
}

// RemoveAll removes a directory's files one step at a time, as
// os.RemoveAll does, so a crash can leave it half deleted.
func (c *crashOps) RemoveAll(p string) error {
	entries, _ := os.ReadDir(p)
	for _, e := range entries {
		if err := c.RemoveAll(filepath.Join(p, e.Name())); err != nil {
			return err
		}
	}
	if err := c.do("removeall", p); err != nil {
		return err
	}
	return c.osOps.RemoveAll(p)
}

// SyncDir only records: a kill loses nothing the page cache holds, and
// the test runs faster without the fsyncs.
func (c *crashOps) SyncDir(p string) error {
	return c.do("syncdir", p)
}

// fold is a stand-in for SQLite's checkpoint, one step of the crash
// schedule: the "WAL" bytes not yet in the "database" are appended to it,
// so folding twice changes nothing, like page images.
func (c *crashOps) fold(dbPath, walPath string) error {
	if err := c.do("fold", dbPath, walPath); err != nil {
		return err
	}
	return unionWAL(dbPath, walPath)
}

func unionWAL(dbPath, walPath string) error {
	d, err := os.ReadFile(dbPath)
	if err != nil {
		return err
	}
	w, err := os.ReadFile(walPath)
	if err != nil {
		return err
	}
	for _, b := range w {
		if !strings.ContainsRune(string(d), rune(b)) {
			d = append(d, b)
		}
	}
	return os.WriteFile(dbPath, d, 0o644)
}

// crashStep is one change to the store and the newest snapshot after it.
type crashStep struct {
	name  string
	run   func(s *Store) error
	index uint64
	data  string
}

func snapStep(version byte, index uint64, data, want string) crashStep {
	kind := map[byte]string{Version: "full", VersionWAL: "incremental"}[version]
	return crashStep{
		name:  fmt.Sprintf("%s snapshot at %d", kind, index),
		run:   func(s *Store) error { return trySnapshot(s, version, index, []byte(data)) },
		index: index, data: want,
	}
}

// crashScenario covers every multi-step change: a first base, incremental
// snapshots, a reap while persisting (Retain 2), a full reap, and a base
// replacing a base with incremental snapshots on it.
func crashScenario() []crashStep {
	return []crashStep{
		snapStep(Version, 10, "A", "A"),
		snapStep(VersionWAL, 20, "B", "AB"),
		snapStep(VersionWAL, 30, "C", "ABC"),
		snapStep(VersionWAL, 40, "D", "ABCD"),
		{name: "reap", run: func(s *Store) error { _, err := s.Reap(); return err }, index: 40, data: "ABCD"},
		snapStep(VersionWAL, 50, "E", "ABCDE"),
		snapStep(Version, 60, "F", "F"),
		snapStep(VersionWAL, 70, "G", "FG"),
	}
}

// trySnapshot writes one snapshot as raft would, returning any failure.
func trySnapshot(s *Store, version byte, index uint64, data []byte) error {
	_, tn := raft.NewInmemTransport("")
	sink, err := s.Create(raft.SnapshotVersionMax, index, 1, raft.Configuration{}, 1, tn)
	if err != nil {
		return err
	}
	src, err := os.CreateTemp("", "rdb-snapshot-src-")
	if err != nil {
		return err
	}
	defer os.Remove(src.Name())
	defer src.Close()
	if _, err := src.Write(data); err != nil {
		return err
	}
	if _, err := src.Seek(0, 0); err != nil {
		return err
	}
	if err := WriteFrom(sink, src, version, Meta{Index: index, Term: 1}); err != nil {
		return errors.Join(err, sink.Cancel())
	}
	return sink.Close()
}

func crashConfig(dir string, apply ApplyWALFunc) Config {
	cfg := DefaultConfig()
	cfg.Dir, cfg.ApplyWAL = dir, apply
	return cfg
}

// runUntilCrash runs the scenario on a store whose file operations fail
// from step crashAt on; it returns the index of the step in progress at
// the crash (len(steps) if none crashed).
func runUntilCrash(t *testing.T, dir string, ops *crashOps, steps []crashStep) int {
	t.Helper()
	s, err := newStore(crashConfig(dir, ops.fold), ops)
	if err != nil {
		if !errors.Is(err, errCrash) {
			t.Fatalf("NewStore: %v", err)
		}
		return 0
	}
	for i, st := range steps {
		err := st.run(s)
		if err != nil && !errors.Is(err, errCrash) {
			t.Fatalf("%s: %v", st.name, err)
		}
		// A crash the step only logged (a reap after a snapshot) stops
		// the store too.
		if ops.crashed() {
			return i
		}
	}
	return len(steps)
}

// TestStore_CrashAtEveryStep stops the store at every file operation of
// crashScenario, as a kill would, reopens it and checks that it opens,
// holds a usable base, and that its newest snapshot reads back as the
// state before or after the interrupted step, and takes new snapshots.
func TestStore_CrashAtEveryStep(t *testing.T) {
	steps := crashScenario()
	for k := 1; ; k++ {
		dir := crashDir(t)
		ops := &crashOps{crashAt: k}
		at := runUntilCrash(t, dir, ops, steps)
		if at == len(steps) {
			t.Logf("crashed at each of %d steps", k-1)
			return
		}
		t.Run(fmt.Sprintf("step %d (%s)", k, steps[at].name), func(t *testing.T) {
			checkReopened(t, dir, steps, at)
		})
		if k > 1000 {
			t.Fatal("scenario never completes")
		}
	}
}

// crashDir is a directory for one crash run, in memory (/dev/shm) where
// there is one: a kill loses nothing the page cache holds, so the crash
// runs need no disk, and fsyncs to disk would make them slow.
func crashDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/dev/shm", "rdb-snapshot-crash-")
	if err != nil {
		return t.TempDir()
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// checkReopened reopens the store in dir after a crash during steps[at].
func checkReopened(t *testing.T, dir string, steps []crashStep, at int) {
	t.Helper()
	s, err := NewStore(crashConfig(dir, unionWAL))
	if err != nil {
		t.Fatalf("reopen after the crash: %v", err)
	}
	metas, err := s.List()
	if err != nil {
		t.Fatalf("List after the crash: %v", err)
	}
	want := []crashStep{steps[at]}
	if at > 0 {
		want = append(want, steps[at-1])
	}
	if len(metas) == 0 {
		if at > 0 {
			t.Fatalf("no snapshot after the crash, want %q or %q", want[0].data, want[1].data)
		}
		return
	}
	if !s.HasBase() {
		t.Fatal("snapshots listed but no base")
	}
	got, data := opened(t, s, metas[0].ID)
	if !matchesOne(got.Index, data, want) {
		t.Fatalf("newest snapshot after the crash: index %d %q, want one of %+v", got.Index, data, want)
	}
	checkNoLeftovers(t, s)
	if err := trySnapshot(s, VersionWAL, 100, []byte("Z")); err != nil {
		t.Fatalf("incremental snapshot after the crash: %v", err)
	}
	metas, _ = s.List()
	if _, after := opened(t, s, metas[0].ID); after != data+"Z" {
		t.Fatalf("snapshot taken after the crash = %q, want %q", after, data+"Z")
	}
}

func matchesOne(index uint64, data string, want []crashStep) bool {
	for _, w := range want {
		if w.index == index && w.data == data {
			return true
		}
	}
	return false
}

// checkNoLeftovers checks that the reopened directory holds only the base
// and incremental snapshots.
func checkNoLeftovers(t *testing.T, s *Store) {
	t.Helper()
	entries, err := os.ReadDir(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != baseDir && !strings.HasPrefix(e.Name(), walPrefix) {
			t.Errorf("left over after reopening: %s", e.Name())
		}
	}
}

// TestStore_RenamesAreSynced records the file operations of crashScenario
// and a reopen, and checks that every rename is followed at once by an
// fsync of the directories it changed, and that a snapshot directory is
// synced before it is renamed into place.
func TestStore_RenamesAreSynced(t *testing.T) {
	dir := t.TempDir()
	ops := &crashOps{}
	if at := runUntilCrash(t, dir, ops, crashScenario()); at != len(crashScenario()) {
		t.Fatalf("scenario stopped at step %d", at)
	}
	if _, err := newStore(crashConfig(dir, ops.fold), ops); err != nil {
		t.Fatal(err)
	}
	renames := 0
	for i, op := range ops.ops {
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
			if i+1+j >= len(ops.ops) || ops.ops[i+1+j] != w {
				t.Errorf("op %d %q: not followed by %q", i, op, w)
			}
		}
		if strings.HasPrefix(filepath.Base(f[1]), tmpPrefix) && !syncedAfterLastCreate(ops.ops[:i], f[1]) {
			t.Errorf("op %d %q: %s renamed into place before it was synced", i, op, f[1])
		}
	}
	if renames == 0 {
		t.Fatal("no renames recorded")
	}
}

// syncedAfterLastCreate reports whether dir was synced after the last
// file created in it.
func syncedAfterLastCreate(ops []string, dir string) bool {
	synced := false
	for _, op := range ops {
		switch {
		case strings.HasPrefix(op, "create "+dir+string(filepath.Separator)):
			synced = false
		case op == "syncdir "+dir:
			synced = true
		}
	}
	return synced
}

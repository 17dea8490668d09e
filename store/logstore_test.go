package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

// testEntries returns n entries from index first with every raft.Log
// field set.
func testEntries(first uint64, n int) []*raft.Log {
	logs := make([]*raft.Log, n)
	for i := range logs {
		idx := first + uint64(i)
		typ := raft.LogCommand
		if idx%7 == 0 {
			typ = raft.LogConfiguration
		}
		logs[i] = &raft.Log{
			Index:      idx,
			Term:       idx/10 + 1,
			Type:       typ,
			Data:       fmt.Appendf(nil, "entry %d", idx),
			Extensions: fmt.Appendf(nil, "ext %d", idx),
			AppendedAt: time.Unix(1_700_000_000+int64(idx), int64(idx)*1001),
		}
	}
	return logs
}

// testStable is a set of raft's stable keys.
type testStable struct {
	currentTerm, lastVoteTerm uint64
	lastVoteCand              []byte
}

var wantStable = testStable{currentTerm: 7, lastVoteTerm: 6, lastVoteCand: []byte("node2")}

// writeBolt writes logs and st into a boltdb Raft store at
// <raftDir>/raft.db, as a boltdb-based version of rdb did.
func writeBolt(t *testing.T, raftDir string, logs []*raft.Log, st testStable) {
	t.Helper()
	if err := os.MkdirAll(raftDir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := raftboltdb.NewBoltStore(filepath.Join(raftDir, raftDBName))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if len(logs) > 0 {
		if err := b.StoreLogs(logs); err != nil {
			t.Fatal(err)
		}
	}
	err = errors.Join(b.SetUint64([]byte("CurrentTerm"), st.currentTerm),
		b.SetUint64([]byte("LastVoteTerm"), st.lastVoteTerm),
		b.Set([]byte("LastVoteCand"), st.lastVoteCand))
	if err != nil {
		t.Fatal(err)
	}
}

// openTestLogStore opens the log store in raftDir, logging into buf if it
// is not nil, and closes it in t.Cleanup.
func openTestLogStore(t *testing.T, raftDir string, buf *bytes.Buffer) *walStore {
	t.Helper()
	logger := testLogger()
	if buf != nil {
		logger = slog.New(slog.NewTextHandler(buf, nil))
	}
	w, err := openLogStore(raftDir, logger, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("openLogStore: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// checkLogs fails unless s holds exactly want.
func checkLogs(t *testing.T, s raft.LogStore, want []*raft.Log) {
	t.Helper()
	first, err1 := s.FirstIndex()
	last, err2 := s.LastIndex()
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		if first != 0 || last != 0 {
			t.Fatalf("log = [%d, %d], want empty", first, last)
		}
		return
	}
	if first != want[0].Index || last != want[len(want)-1].Index {
		t.Fatalf("log = [%d, %d], want [%d, %d]", first, last, want[0].Index, want[len(want)-1].Index)
	}
	for _, w := range want {
		var got raft.Log
		if err := s.GetLog(w.Index, &got); err != nil {
			t.Fatalf("GetLog(%d): %v", w.Index, err)
		}
		if got.Index != w.Index || got.Term != w.Term || got.Type != w.Type ||
			!bytes.Equal(got.Data, w.Data) || !bytes.Equal(got.Extensions, w.Extensions) ||
			!got.AppendedAt.Equal(w.AppendedAt) {
			t.Fatalf("entry %d = %+v, want %+v", w.Index, got, *w)
		}
	}
}

// checkStable fails unless s holds want.
func checkStable(t *testing.T, s raft.StableStore, want testStable) {
	t.Helper()
	term, err1 := s.GetUint64([]byte("CurrentTerm"))
	voteTerm, err2 := s.GetUint64([]byte("LastVoteTerm"))
	cand, err3 := s.Get([]byte("LastVoteCand"))
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	if got := (testStable{term, voteTerm, cand}); got.currentTerm != want.currentTerm ||
		got.lastVoteTerm != want.lastVoteTerm || !bytes.Equal(got.lastVoteCand, want.lastVoteCand) {
		t.Fatalf("stable keys = %+v, want %+v", got, want)
	}
}

// checkMigrated fails unless raftDir holds the finished layout: wal, no
// raft.db, raft.db.migrated, no temp copy.
func checkMigrated(t *testing.T, raftDir string) {
	t.Helper()
	for name, want := range map[string]bool{walDirName: true, raftDBName: false, raftDBMigrated: true, walTempName: false} {
		found, err := exists(filepath.Join(raftDir, name))
		if err != nil || found != want {
			t.Fatalf("%s exists = %v (%v), want %v", name, found, err, want)
		}
	}
}

func TestLogStore_Migrate(t *testing.T) {
	gapped := append(testEntries(3, 10), testEntries(40, 25)...)
	tests := []struct {
		name    string
		entries []*raft.Log
		want    []*raft.Log
	}{
		{"entries", testEntries(5, 300), testEntries(5, 300)},
		{"from index 1", testEntries(1, 3), testEntries(1, 3)},
		{"empty log", nil, nil},
		{"gap after a snapshot install", gapped, gapped[10:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raftDir := t.TempDir()
			writeBolt(t, raftDir, tt.entries, wantStable)
			var buf bytes.Buffer
			w := openTestLogStore(t, raftDir, &buf)
			checkLogs(t, w, tt.want)
			checkStable(t, w, wantStable)
			checkMigrated(t, raftDir)
			if want := fmt.Sprintf("entries=%d", len(tt.want)); !strings.Contains(buf.String(), want) {
				t.Fatalf("log %q lacks %q", buf.String(), want)
			}
		})
	}
}

// TestLogStore_Migrate_Once: a store reopened after its migration keeps
// what was appended since and does not migrate again.
func TestLogStore_Migrate_Once(t *testing.T) {
	raftDir := t.TempDir()
	entries := testEntries(1, 50)
	writeBolt(t, raftDir, entries[:40], wantStable)
	w := openTestLogStore(t, raftDir, nil)
	if err := errors.Join(w.StoreLogs(entries[40:]), w.SetUint64([]byte("CurrentTerm"), 8), w.Close()); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	w = openTestLogStore(t, raftDir, &buf)
	checkLogs(t, w, entries)
	checkStable(t, w, testStable{8, wantStable.lastVoteTerm, wantStable.lastVoteCand})
	if strings.Contains(buf.String(), "migrated") {
		t.Fatalf("second open migrated again: %s", buf.String())
	}
}

// TestLogStore_Migrate_Crash recreates the layout a kill leaves at each
// step of a migration: the next open ends with the bolt store's content.
func TestLogStore_Migrate_Crash(t *testing.T) {
	entries := testEntries(1, 100)
	tests := []struct {
		name  string
		crash func(t *testing.T, raftDir string)
	}{
		{"during the copy", func(t *testing.T, raftDir string) {
			partialWAL(t, filepath.Join(raftDir, walTempName), entries[:30])
		}},
		{"copy done, not renamed", func(t *testing.T, raftDir string) {
			partialWAL(t, filepath.Join(raftDir, walTempName), entries)
		}},
		{"wal renamed, raft.db not retired", func(t *testing.T, raftDir string) {
			if err := migrateBolt(raftDir, testLogger(), hclog.NewNullLogger()); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(raftDir, raftDBMigrated), filepath.Join(raftDir, raftDBName)); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raftDir := t.TempDir()
			writeBolt(t, raftDir, entries, wantStable)
			tt.crash(t, raftDir)
			w := openTestLogStore(t, raftDir, nil)
			checkLogs(t, w, entries)
			checkStable(t, w, wantStable)
			checkMigrated(t, raftDir)
		})
	}
}

// partialWAL writes entries, without stable keys, into a raft-wal in dir.
func partialWAL(t *testing.T, dir string, entries []*raft.Log) {
	t.Helper()
	w, err := openWAL(dir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(w.StoreLogs(entries), w.Close()); err != nil {
		t.Fatal(err)
	}
}

func TestLogStore_Locked(t *testing.T) {
	raftDir := t.TempDir()
	w := openTestLogStore(t, raftDir, nil)
	start := time.Now()
	if _, err := openLogStore(raftDir, testLogger(), hclog.NewNullLogger()); !errors.Is(err, ErrDirLocked) {
		t.Fatalf("second openLogStore = %v, want ErrDirLocked", err)
	}
	if d := time.Since(start); d > 3*lockTimeout {
		t.Fatalf("second open failed after %s, want about %s", d, lockTimeout)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	openTestLogStore(t, raftDir, nil) // the lock went with Close
}

// TestLogStore_Locked_ByBoltVersion: a boltdb-based rdb running on the
// dir holds raft.db's lock; the migration fails with ErrDirLocked and
// leaves raft.db alone.
func TestLogStore_Locked_ByBoltVersion(t *testing.T) {
	raftDir := t.TempDir()
	entries := testEntries(1, 10)
	writeBolt(t, raftDir, entries, wantStable)
	b, err := raftboltdb.NewBoltStore(filepath.Join(raftDir, raftDBName))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := openLogStore(raftDir, testLogger(), hclog.NewNullLogger()); !errors.Is(err, ErrDirLocked) {
		t.Fatalf("openLogStore next to a running boltdb version = %v, want ErrDirLocked", err)
	}
	checkLogs(t, b, entries)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	checkLogs(t, openTestLogStore(t, raftDir, nil), entries)
}

// TestLogStore_Truncate: deleting a prefix that spans sealed segments
// frees their disk space, and the new first index survives a reopen.
func TestLogStore_Truncate(t *testing.T) {
	raftDir := t.TempDir()
	w := openTestLogStore(t, raftDir, nil)
	const entrySize, batch = 4 << 10, 256
	n := 5 * walSegmentSize / entrySize // about five segments
	for first := 1; first <= n; first += batch {
		logs := make([]*raft.Log, batch)
		for i := range logs {
			logs[i] = &raft.Log{Index: uint64(first + i), Term: 1, Type: raft.LogCommand, Data: make([]byte, entrySize)}
		}
		if err := w.StoreLogs(logs); err != nil {
			t.Fatal(err)
		}
	}
	last, _ := w.LastIndex()
	walDir := filepath.Join(raftDir, walDirName)
	filesBefore, sizeBefore := diskUsage(t, walDir)
	if err := w.DeleteRange(1, last-100); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openTestLogStore(t, raftDir, nil)
	first, _ := w.FirstIndex()
	if first != last-99 {
		t.Fatalf("FirstIndex after DeleteRange and reopen = %d, want %d", first, last-99)
	}
	filesAfter, sizeAfter := diskUsage(t, walDir)
	t.Logf("%d entries of %d B: %d files, %d MiB before; %d files, %d MiB after", last, entrySize,
		filesBefore, sizeBefore>>20, filesAfter, sizeAfter>>20)
	if filesAfter >= filesBefore || sizeAfter > sizeBefore/2 {
		t.Fatalf("truncation left %d files, %d bytes (was %d, %d)", filesAfter, sizeAfter, filesBefore, sizeBefore)
	}
}

// diskUsage is the number of files in dir and the bytes they occupy.
func diskUsage(t *testing.T, dir string) (files int, bytes int64) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		files++
		bytes += fi.Sys().(*syscall.Stat_t).Blocks * 512
	}
	return files, bytes
}

// TestStore_Open_MigratesBolt: a node whose data dir holds only a boltdb
// log (no database file, no snapshot) comes back with its data, rebuilt
// from the migrated log.
func TestStore_Open_MigratesBolt(t *testing.T) {
	dir, addr := t.TempDir(), raft.NewInmemAddr()
	c := fileConfig(t, dir, nil)
	n := startNode(t, c, addr, false)
	mustExecute(t, n.Store, "CREATE TABLE foo (x)", "INSERT INTO foo VALUES(42)")
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	raftDir := filepath.Join(dir, raftDirName)
	walToBolt(t, raftDir)
	if err := os.Remove(filepath.Join(dir, sqliteName)); err != nil {
		t.Fatal(err)
	}

	n = startNode(t, c, addr, false)
	checkMigrated(t, raftDir)
	waitFor(t, waitTimeout, "readiness", n.Ready)
	resp, err := n.Query(context.Background(), stmts("SELECT x FROM foo"))
	if err != nil || len(resp.Results) != 1 || len(resp.Results[0].Values) != 1 || resp.Results[0].Values[0][0] != int64(42) {
		t.Fatalf("data after migration: %+v, %v", resp, err)
	}
	mustExecute(t, n.Store, "INSERT INTO foo VALUES(43)")
}

// walToBolt turns raftDir back into the layout of a boltdb-based version:
// raft.db with the wal's log and stable keys, and no wal.
func walToBolt(t *testing.T, raftDir string) {
	t.Helper()
	w := openTestLogStore(t, raftDir, nil)
	b, err := raftboltdb.NewBoltStore(filepath.Join(raftDir, raftDBName))
	if err != nil {
		t.Fatal(err)
	}
	_, err = copyLog(b, w)
	if err == nil {
		_, err = copyStable(b, w)
	}
	if err := errors.Join(err, b.Close(), w.Close()); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(raftDir, walDirName)); err != nil {
		t.Fatal(err)
	}
}

// TestLogStore_DeletedEntriesAreGone: raft-wal keeps deleted entries of
// its open segment readable; the store must not serve them, or a leader
// replicates truncated history instead of sending its snapshot.
func TestLogStore_DeletedEntriesAreGone(t *testing.T) {
	w := openTestLogStore(t, t.TempDir(), nil)
	logs := make([]*raft.Log, 20)
	for i := range logs {
		logs[i] = &raft.Log{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: []byte("x")}
	}
	if err := w.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
	if err := w.DeleteRange(1, 10); err != nil {
		t.Fatal(err)
	}
	var l raft.Log
	if err := w.GetLog(5, &l); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("GetLog(5) after DeleteRange(1, 10) = %v, want raft.ErrLogNotFound", err)
	}
	if err := w.GetLog(11, &l); err != nil || l.Index != 11 {
		t.Errorf("GetLog(11) = %v (index %d), want entry 11", err, l.Index)
	}
}

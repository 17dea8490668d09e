package store

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
)

func openTestLogStore(t *testing.T, raftDir string) *logStore {
	t.Helper()
	l, err := openLogStore(raftDir, hclog.NewNullLogger())
	if err != nil {
		t.Fatalf("openLogStore: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func storeEntries(t *testing.T, l raft.LogStore, first, last uint64, term uint64) {
	t.Helper()
	var logs []*raft.Log
	for i := first; i <= last; i++ {
		logs = append(logs, &raft.Log{Index: i, Term: term, Type: raft.LogCommand, Data: []byte("x")})
	}
	if err := l.StoreLogs(logs); err != nil {
		t.Fatal(err)
	}
}

// TestLogStore_Locked: a second opener of the same raft dir fails with
// ErrDirLocked after about lockTimeout; the lock goes with Close.
func TestLogStore_Locked(t *testing.T) {
	raftDir := t.TempDir()
	l := openTestLogStore(t, raftDir)
	start := time.Now()
	if _, err := openLogStore(raftDir, hclog.NewNullLogger()); !errors.Is(err, ErrDirLocked) {
		t.Fatalf("second openLogStore = %v, want ErrDirLocked", err)
	}
	if d := time.Since(start); d > 3*lockTimeout {
		t.Fatalf("second open failed after %s, want about %s", d, lockTimeout)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	openTestLogStore(t, raftDir) // the lock went with Close
}

// TestLogStore_DeletedEntriesAreGone: entries raft deleted after a
// snapshot are not served (else a leader replicates truncated history
// instead of sending its snapshot).
func TestLogStore_DeletedEntriesAreGone(t *testing.T) {
	l := openTestLogStore(t, t.TempDir())
	storeEntries(t, l, 1, 20, 1)
	if err := l.DeleteRange(1, 10); err != nil {
		t.Fatal(err)
	}
	var e raft.Log
	if err := l.GetLog(5, &e); !errors.Is(err, raft.ErrLogNotFound) {
		t.Errorf("GetLog(5) after DeleteRange(1, 10) = %v, want raft.ErrLogNotFound", err)
	}
	if err := l.GetLog(11, &e); err != nil || e.Index != 11 {
		t.Errorf("GetLog(11) = %v (index %d), want entry 11", err, e.Index)
	}
}

// TestLogStore_TailTruncationThenReopen: a follower that drops a
// conflicting suffix (raft's "clearing log suffix") and appends the new
// leader's entries must open again after a restart, with raft's stable
// keys. raft-wal v0.4.0 alone cannot (hashicorp/raft-wal#31): walLog
// rebuilds the log instead of letting it truncate its tail.
func TestLogStore_TailTruncationThenReopen(t *testing.T) {
	raftDir := t.TempDir()
	l, err := openLogStore(raftDir, hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	storeEntries(t, l, 1, 30, 1)
	if err := l.SetUint64([]byte("CurrentTerm"), 2); err != nil {
		t.Fatal(err)
	}
	if err := l.Set([]byte("LastVoteCand"), []byte("node2")); err != nil {
		t.Fatal(err)
	}
	if err := l.DeleteRange(25, 30); err != nil {
		t.Fatal(err)
	}
	storeEntries(t, l, 25, 27, 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTestLogStore(t, raftDir)
	last, err := l.LastIndex()
	if err != nil || last != 27 {
		t.Fatalf("LastIndex after reopen = %d, %v; want 27", last, err)
	}
	var e raft.Log
	if err := l.GetLog(26, &e); err != nil || e.Term != 2 {
		t.Errorf("entry 26 after reopen: %+v, %v; want the new leader's (term 2)", e, err)
	}
	if err := l.GetLog(1, &e); err != nil || e.Term != 1 {
		t.Errorf("entry 1 after reopen: %+v, %v", e, err)
	}
	if v, err := l.GetUint64([]byte("CurrentTerm")); err != nil || v != 2 {
		t.Errorf("CurrentTerm after the rebuild = %d, %v; want 2", v, err)
	}
	if v, err := l.Get([]byte("LastVoteCand")); err != nil || string(v) != "node2" {
		t.Errorf("LastVoteCand after the rebuild = %q, %v", v, err)
	}
}

// TestLogStore_BoltDataDirKeepsWorking: a data dir whose log an earlier
// version kept in raft.db (boltdb) opens on it, with its entries.
func TestLogStore_BoltDataDirKeepsWorking(t *testing.T) {
	raftDir := t.TempDir()
	b, err := raftboltdb.NewBoltStore(filepath.Join(raftDir, raftDBName))
	if err != nil {
		t.Fatal(err)
	}
	storeEntries(t, b, 1, 5, 3)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	l := openTestLogStore(t, raftDir)
	if _, ok := l.raftLog.(*raftboltdb.BoltStore); !ok {
		t.Fatalf("opened %T, want the boltdb store", l.raftLog)
	}
	var e raft.Log
	if err := l.GetLog(5, &e); err != nil || e.Term != 3 {
		t.Errorf("entry 5: %+v, %v", e, err)
	}
	if _, err := os.Stat(filepath.Join(raftDir, walDirName)); !os.IsNotExist(err) {
		t.Errorf("a wal dir was created next to raft.db: %v", err)
	}
}

// TestWALLog_RecoverRebuild: whatever step of a rebuild a crash stopped
// at, the next open finds one complete log.
func TestWALLog_RecoverRebuild(t *testing.T) {
	// mk writes a log of entries 1..last elsewhere and moves it to dir.
	mk := func(t *testing.T, dir string, last uint64) {
		scratch := filepath.Join(t.TempDir(), walDirName)
		l, err := openWALLog(scratch, hclog.NewNullLogger())
		if err != nil {
			t.Fatal(err)
		}
		storeEntries(t, l, 1, last, 1)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(scratch, dir); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		setup    func(t *testing.T, dir string)
		wantLast uint64
	}{
		{"copy unfinished", func(t *testing.T, dir string) { mk(t, dir, 10); mk(t, dir+".new", 4) }, 10},
		{"old set aside", func(t *testing.T, dir string) {
			mk(t, dir, 10)
			mk(t, dir+".new", 4)
			if err := os.Rename(dir, dir+".old"); err != nil {
				t.Fatal(err)
			}
		}, 4},
		{"swapped, old left", func(t *testing.T, dir string) { mk(t, dir+".old", 10); mk(t, dir, 4) }, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), walDirName)
			tt.setup(t, dir)
			l, err := openWALLog(dir, hclog.NewNullLogger())
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if last, _ := l.LastIndex(); last != tt.wantLast {
				t.Errorf("last index %d, want %d", last, tt.wantLast)
			}
			for _, p := range []string{dir + ".new", dir + ".old"} {
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("%s left over", p)
				}
			}
		})
	}
}

// TestLogStore_NotMonotonic: neither log store tells raft it is
// monotonic, so after installing a snapshot raft compacts the log up to
// the snapshot instead of emptying it. Emptying it while raft v1.7.3 kept
// its in-memory last index let a follower that installed a snapshot older
// than its log's end accept entries past a hole, then panic applying them
// and fail every restart (the fault suite's long run).
func TestLogStore_NotMonotonic(t *testing.T) {
	if l := openTestLogStore(t, t.TempDir()); l.IsMonotonic() {
		t.Error("the WAL log store says it is monotonic")
	}
	raftDir := t.TempDir()
	b, err := raftboltdb.NewBoltStore(filepath.Join(raftDir, raftDBName))
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	if l := openTestLogStore(t, raftDir); l.IsMonotonic() {
		t.Error("the boltdb log store says it is monotonic")
	}
	var _ raft.MonotonicLogStore = (*logStore)(nil)
}

// TestLogStore_AppendAfterSnapshotGap: raft appends past a gap only
// after installing a snapshot beyond the log's end; raft-wal refuses
// gaps, so the WAL store drops the entries the snapshot covers (keeping
// raft's stable keys) and stores the new ones, also across a reopen.
func TestLogStore_AppendAfterSnapshotGap(t *testing.T) {
	raftDir := t.TempDir()
	l := openTestLogStore(t, raftDir)
	storeEntries(t, l, 1, 100, 1)
	if err := l.SetUint64([]byte("CurrentTerm"), 7); err != nil {
		t.Fatal(err)
	}
	storeEntries(t, l, 501, 510, 2) // the snapshot ends at 500
	check := func(l *logStore) {
		t.Helper()
		first, _ := l.FirstIndex()
		last, _ := l.LastIndex()
		if first != 501 || last != 510 {
			t.Errorf("log %d-%d, want 501-510", first, last)
		}
		var e raft.Log
		if err := l.GetLog(100, &e); !errors.Is(err, raft.ErrLogNotFound) {
			t.Errorf("entry 100 below the snapshot: %v, want ErrLogNotFound", err)
		}
		if err := l.GetLog(505, &e); err != nil || e.Term != 2 {
			t.Errorf("entry 505: term %d, %v", e.Term, err)
		}
		if v, err := l.GetUint64([]byte("CurrentTerm")); err != nil || v != 7 {
			t.Errorf("CurrentTerm %d, %v: want 7", v, err)
		}
	}
	check(l)
	storeEntries(t, l, 511, 512, 2) // and it goes on appending
	l.Close()
	l = openTestLogStore(t, raftDir)
	if last, _ := l.LastIndex(); last != 512 {
		t.Errorf("after reopen the log ends at %d, want 512", last)
	}
	if first, _ := l.FirstIndex(); first != 501 {
		t.Errorf("after reopen the log starts at %d, want 501", first)
	}
}

package store

import (
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

func openTestLogStore(t *testing.T, raftDir string) *logStore {
	t.Helper()
	l, err := openLogStore(raftDir)
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
	if _, err := openLogStore(raftDir); !errors.Is(err, ErrDirLocked) {
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
// leader's entries must open again after a restart. raft-wal v0.4.0 marks
// the truncated segment sealed without writing its index and cannot
// (hashicorp/raft-wal#31); the store must not.
func TestLogStore_TailTruncationThenReopen(t *testing.T) {
	raftDir := t.TempDir()
	l, err := openLogStore(raftDir)
	if err != nil {
		t.Fatal(err)
	}
	storeEntries(t, l, 1, 30, 1)
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
}

package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
	"golang.org/x/sys/unix"
)

const (
	// lockName is the file whose flock keeps a second process off the dir.
	lockName = "lock"
	// lockPoll is how often a held lock is retried within lockTimeout.
	lockPoll = 50 * time.Millisecond
)

// raftLog is the Raft log and stable store, with Close.
type raftLog interface {
	raft.LogStore
	raft.StableStore
	Close() error
}

// logStore is the node's Raft log and stable store and the directory lock
// it holds: raft-wal in <raft dir>/wal (walLog), or raft-boltdb in
// <raft dir>/raft.db for a data directory an earlier version created,
// which keeps working as it was.
type logStore struct {
	raftLog
	lock *os.File
}

// openLogStore locks raftDir and opens its log. A second opener of the
// same dir fails with ErrDirLocked after lockTimeout.
func openLogStore(raftDir string, log hclog.Logger) (*logStore, error) {
	lock, err := lockDir(raftDir, lockTimeout)
	if err != nil {
		return nil, err
	}
	l, err := openRaftLog(raftDir, log)
	if err != nil {
		lock.Close()
		return nil, err
	}
	return &logStore{raftLog: l, lock: lock}, nil
}

func openRaftLog(raftDir string, log hclog.Logger) (raftLog, error) {
	p := filepath.Join(raftDir, raftDBName)
	if _, err := os.Stat(p); err != nil {
		return openWALLog(filepath.Join(raftDir, walDirName), log.Named("wal"))
	}
	b, err := raftboltdb.New(raftboltdb.Options{Path: p, BoltOptions: &bbolt.Options{Timeout: lockTimeout}})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			err = fmt.Errorf("%w: %w", ErrDirLocked, err)
		}
		return nil, fmt.Errorf("open raft log %s: %w", p, err)
	}
	return b, nil
}

// Close closes the log, then releases the lock.
func (l *logStore) Close() error {
	return errors.Join(l.raftLog.Close(), l.lock.Close()) // closing the file drops the flock
}

// lockDir takes an exclusive flock on <dir>/lock, retrying for up to
// timeout so that a restart does not race the exit of the previous
// process. The lock lasts until the returned file is closed.
func lockDir(dir string, timeout time.Duration) (*os.File, error) {
	p := filepath.Join(dir, lockName)
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file %s: %w", p, err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return f, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK) && time.Now().Before(deadline):
			time.Sleep(lockPoll)
			continue
		}
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			err = ErrDirLocked
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
}

// syncDir fsyncs a directory, making renames and creations in it durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// IsMonotonic reports what the underlying log tells raft: false for both
// (walLog handles raft-wal's refusal of gaps itself; see walLog.IsMonotonic).
func (l *logStore) IsMonotonic() bool {
	m, ok := l.raftLog.(raft.MonotonicLogStore)
	return ok && m.IsMonotonic()
}

package store

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
	"golang.org/x/sys/unix"
)

const (
	// walDirName holds the Raft log and stable store (raft-wal) in the raft dir.
	walDirName = "wal"
	// walTempName is the wal being built from raft.db; renamed to walDirName
	// once complete.
	walTempName = "wal.migrating"
	// raftDBMigrated is raft.db once its content lives in walDirName.
	raftDBMigrated = raftDBName + ".migrated"
	// lockName is the file whose flock keeps a second process off the dir.
	lockName = "lock"
	// lockPoll is how often a held lock is retried within lockTimeout.
	lockPoll = 50 * time.Millisecond
	// walSegmentSize bounds a raft-wal segment file. raft-wal preallocates
	// each segment and frees disk only by deleting whole sealed segments,
	// so this is the floor of the log's footprint and the granularity of
	// truncation (see DESIGN.md).
	walSegmentSize = 8 << 20
)

// walStore is the Raft log and stable store: raft-wal in <raft dir>/wal,
// with the metadata file and the directory lock it owns. Close releases
// all three.
type walStore struct {
	*wal.WAL
	meta *metadb.BoltMetaDB
	lock *os.File
}

// openLogStore locks raftDir, migrates a raft.db left by a boltdb-based
// version (see migrateBolt), and opens raft-wal in <raftDir>/wal. A second
// opener of the same dir fails with ErrDirLocked after lockTimeout.
func openLogStore(raftDir string, logger *slog.Logger, hlog hclog.Logger) (_ *walStore, err error) {
	lock, err := lockDir(raftDir, lockTimeout)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	if err := migrateBolt(raftDir, logger, hlog); err != nil {
		return nil, err
	}
	w, err := openWAL(filepath.Join(raftDir, walDirName), hlog)
	if err != nil {
		return nil, err
	}
	w.lock = lock
	return w, nil
}

// openWAL opens (or creates) raft-wal in dir. raft-wal's Close leaves its
// metadata bolt file open, and bolt's flock would block a later open in
// this process forever, so the store keeps the MetaStore and closes it.
func openWAL(dir string, hlog hclog.Logger) (*walStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create raft log dir %s: %w", dir, err)
	}
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(dir, wal.WithMetaStore(meta), wal.WithSegmentSize(walSegmentSize),
		wal.WithLogger(hlog.Named("wal")))
	if err != nil {
		return nil, errors.Join(fmt.Errorf("open raft log %s: %w", dir, err), meta.Close())
	}
	return &walStore{WAL: w, meta: meta}, nil
}

// Close closes the log, then its metadata, then releases the lock.
func (w *walStore) Close() error {
	errs := []error{w.WAL.Close(), w.meta.Close()}
	if w.lock != nil {
		errs = append(errs, w.lock.Close()) // closing the file drops the flock
	}
	return errors.Join(errs...)
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

// exists reports whether p exists.
func exists(p string) (bool, error) {
	_, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", p, err)
	}
	return true, nil
}

// GetLog reads the entry at index, and reports raft.ErrLogNotFound for an
// entry raft deleted (after a snapshot) even while raft-wal still holds
// it in its open segment: raft-wal reads the open segment without checking
// the log's first index, and a leader that served deleted entries would
// never send a lagging follower its snapshot, keeping truncated history
// alive in replication.
func (w *walStore) GetLog(index uint64, l *raft.Log) error {
	first, err := w.WAL.FirstIndex()
	if err != nil {
		return err
	}
	if index < first {
		return raft.ErrLogNotFound
	}
	return w.WAL.GetLog(index, l)
}

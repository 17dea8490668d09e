package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

const (
	// walDirName holds the Raft log and stable store (raft-wal).
	walDirName = "wal"
	// walSegmentSize bounds a segment file: raft-wal preallocates each one
	// and frees disk only by deleting whole sealed segments.
	walSegmentSize = 8 << 20
	// rebuildBatchBytes bounds the entries copied per StoreLogs.
	rebuildBatchBytes = 1 << 20
)

// stableKeys are the StableStore keys hashicorp/raft uses (its
// keyCurrentTerm, keyLastVoteTerm, keyLastVoteCand).
var stableKeys = []string{"CurrentTerm", "LastVoteTerm", "LastVoteCand"}

// walLog is the Raft log and stable store on hashicorp/raft-wal in
// <raft dir>/wal, with two corrections:
//
//   - A tail truncation (raft's "clearing log suffix", when a new leader
//     overwrites a follower's uncommitted entries) is done by rebuilding
//     the log without the suffix, never by raft-wal: v0.4.0 marks the
//     open segment sealed without writing its index block, and the next
//     start cannot read it (hashicorp/raft-wal#31). The rebuild copies the
//     kept entries and raft's stable keys into wal.new, syncs it, and
//     swaps the directories (wal → wal.old, wal.new → wal, each rename
//     fsynced); openWALLog finishes or discards a swap a crash cut short.
//     A tail truncation is rare and the log is short (snapshots compact
//     it), so the copy is cheap.
//   - GetLog refuses entries before the first index: raft-wal serves
//     deleted entries from its open segment, and a leader that served
//     them would never send a lagging follower its snapshot.
//
// Methods are safe for concurrent use; a rebuild excludes the others.
type walLog struct {
	dir string
	log hclog.Logger

	mu   sync.RWMutex
	w    *wal.WAL
	meta *metadb.BoltMetaDB
}

var (
	_ raft.LogStore    = (*walLog)(nil)
	_ raft.StableStore = (*walLog)(nil)
)

// openWALLog opens (creating if needed) the log in dir, first resolving a
// rebuild that a crash interrupted.
func openWALLog(dir string, log hclog.Logger) (*walLog, error) {
	if err := recoverRebuild(dir); err != nil {
		return nil, err
	}
	w, meta, err := openWALDir(dir, log)
	if err != nil {
		return nil, err
	}
	return &walLog{dir: dir, log: log, w: w, meta: meta}, nil
}

// recoverRebuild resolves the directories a rebuild leaves at each step:
// wal.new is only complete once wal was renamed to wal.old, so without
// wal it becomes wal; with wal it is an unfinished copy; wal.old is
// garbage once wal exists (and the log itself if wal.new is gone too).
func recoverRebuild(dir string) error {
	newDir, oldDir := dir+".new", dir+".old"
	has := func(p string) bool { _, err := os.Stat(p); return err == nil }
	switch {
	case !has(dir) && has(newDir):
		if err := renameSynced(newDir, dir); err != nil {
			return err
		}
	case !has(dir) && has(oldDir):
		if err := renameSynced(oldDir, dir); err != nil {
			return err
		}
	}
	for _, p := range []string{newDir, oldDir} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// openWALDir opens raft-wal in dir. raft-wal's Close leaves its metadata
// bolt file open (whose flock would hang a reopen), so the caller keeps
// the MetaStore and closes it.
func openWALDir(dir string, log hclog.Logger) (*wal.WAL, *metadb.BoltMetaDB, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create raft log dir %s: %w", dir, err)
	}
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(dir, wal.WithMetaStore(meta), wal.WithSegmentSize(walSegmentSize), wal.WithLogger(log))
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("open raft log %s: %w", dir, err), meta.Close())
	}
	return w, meta, nil
}

func renameSynced(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("rename %s: %w", from, err)
	}
	return syncDir(filepath.Dir(to))
}

func (l *walLog) FirstIndex() (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.FirstIndex()
}

func (l *walLog) LastIndex() (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.LastIndex()
}

// GetLog reads the entry at index; deleted entries are not found.
func (l *walLog) GetLog(index uint64, e *raft.Log) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	first, err := l.w.FirstIndex()
	if err != nil {
		return err
	}
	if index < first {
		return raft.ErrLogNotFound
	}
	return l.w.GetLog(index, e)
}

func (l *walLog) StoreLog(e *raft.Log) error { return l.StoreLogs([]*raft.Log{e}) }

func (l *walLog) StoreLogs(logs []*raft.Log) error {
	if len(logs) > 0 {
		gap, err := l.gapBefore(logs[0].Index)
		if err != nil {
			return err
		}
		if gap {
			return l.storeAfterGap(logs)
		}
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.StoreLogs(logs)
}

// gapBefore reports whether entries starting at index would leave a gap
// after the last stored entry. Raft only appends past a gap right after
// installing a snapshot beyond the end of the log (the entry before the
// new ones is the snapshot's last), so the stored entries are all
// covered by that snapshot.
func (l *walLog) gapBefore(index uint64) (bool, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	last, err := l.w.LastIndex()
	if err != nil {
		return false, err
	}
	return last > 0 && index > last+1, nil
}

// storeAfterGap empties the log (raft-wal refuses gaps), keeping the
// stable keys, and stores logs.
func (l *walLog) storeAfterGap(logs []*raft.Log) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	first, err := l.w.FirstIndex()
	if err != nil {
		return err
	}
	last, err := l.w.LastIndex()
	if err != nil {
		return err
	}
	if last > 0 && logs[0].Index > last+1 {
		if err := l.rebuild(first, first-1); err != nil {
			return fmt.Errorf("drop raft log %d-%d before entry %d: %w", first, last, logs[0].Index, err)
		}
		l.log.Info("raft log emptied: new entries follow a snapshot past its end", "dropped_first", first,
			"dropped_last", last, "next", logs[0].Index)
	}
	return l.w.StoreLogs(logs)
}

// DeleteRange deletes [min, max]. A prefix goes to raft-wal; a suffix is
// removed by rebuilding the log without it (see walLog).
func (l *walLog) DeleteRange(min, max uint64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	first, err := l.w.FirstIndex()
	if err != nil {
		return err
	}
	last, err := l.w.LastIndex()
	if err != nil {
		return err
	}
	if min > max || max < first || min > last || min <= first {
		return l.w.DeleteRange(min, max)
	}
	if max < last {
		return fmt.Errorf("delete log range %d-%d: only a prefix or a suffix of %d-%d can be deleted", min, max, first, last)
	}
	return l.rebuild(first, min-1)
}

// rebuild replaces the log by a copy holding only entries first..keep,
// with the same stable keys. The caller holds mu exclusively.
func (l *walLog) rebuild(first, keep uint64) error {
	newDir, oldDir := l.dir+".new", l.dir+".old"
	if err := os.RemoveAll(newDir); err != nil {
		return fmt.Errorf("rebuild raft log: %w", err)
	}
	nw, nmeta, err := openWALDir(newDir, l.log)
	if err != nil {
		return fmt.Errorf("rebuild raft log: %w", err)
	}
	err = l.copyInto(nw, first, keep)
	err = errors.Join(err, nw.Close(), nmeta.Close())
	if err == nil {
		err = syncDir(newDir)
	}
	if err != nil {
		os.RemoveAll(newDir)
		return fmt.Errorf("rebuild raft log without entries after %d: %w", keep, err)
	}
	if err := errors.Join(l.w.Close(), l.meta.Close()); err != nil {
		return fmt.Errorf("rebuild raft log: close: %w", err)
	}
	if err := renameSynced(l.dir, oldDir); err != nil {
		return err
	}
	if err := renameSynced(newDir, l.dir); err != nil {
		return err
	}
	if err := os.RemoveAll(oldDir); err != nil {
		l.log.Warn("remove old raft log", "dir", oldDir, "error", err)
	}
	if l.w, l.meta, err = openWALDir(l.dir, l.log); err != nil {
		return fmt.Errorf("reopen rebuilt raft log: %w", err)
	}
	l.log.Info("raft log suffix removed by rebuilding the log", "kept_first", first, "kept_last", keep)
	return nil
}

// copyInto copies raft's stable keys and entries first..keep to dst.
func (l *walLog) copyInto(dst *wal.WAL, first, keep uint64) error {
	for _, k := range stableKeys {
		v, err := l.w.Get([]byte(k))
		if err != nil {
			return fmt.Errorf("read %s: %w", k, err)
		}
		if len(v) == 0 {
			continue
		}
		if err := dst.Set([]byte(k), v); err != nil {
			return fmt.Errorf("write %s: %w", k, err)
		}
	}
	var (
		batch []*raft.Log
		size  int
	)
	for i := first; i <= keep && first > 0; i++ {
		e := new(raft.Log)
		if err := l.w.GetLog(i, e); err != nil {
			return fmt.Errorf("read log %d: %w", i, err)
		}
		batch, size = append(batch, e), size+len(e.Data)+len(e.Extensions)+64
		if size < rebuildBatchBytes && i < keep {
			continue
		}
		if err := dst.StoreLogs(batch); err != nil {
			return fmt.Errorf("write logs %d-%d: %w", batch[0].Index, i, err)
		}
		batch, size = batch[:0], 0
	}
	return nil
}

func (l *walLog) Set(k, v []byte) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.Set(k, v)
}

func (l *walLog) Get(k []byte) ([]byte, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.Get(k)
}

func (l *walLog) SetUint64(k []byte, v uint64) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.SetUint64(k, v)
}

func (l *walLog) GetUint64(k []byte) (uint64, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.w.GetUint64(k)
}

// Close closes the log and its metadata.
func (l *walLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return errors.Join(l.w.Close(), l.meta.Close())
}

// IsMonotonic is false: after installing a snapshot raft then compacts
// the log up to the snapshot (keeping entries after it) instead of
// emptying it, and walLog drops entries itself when raft appends past a
// gap (StoreLogs). With true, raft v1.7.3 empties the log but keeps its
// in-memory last index: after a snapshot older than the log's end (two
// installs racing after a node was removed and added again) it accepted
// entries past the deleted ones, then panicked applying them ("log not
// found"), and the node could not start again. The fault suite's long
// run hit it.
func (l *walLog) IsMonotonic() bool { return false }

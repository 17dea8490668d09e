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
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	"go.etcd.io/bbolt"
)

// migrateBatchBytes bounds the entries copied per StoreLogs (one fsync).
const migrateBatchBytes = 1 << 20

// stableUint64Keys and stableKeys are the StableStore keys hashicorp/raft
// uses (raft.go keyCurrentTerm, keyLastVoteTerm, keyLastVoteCand). The two
// stores encode uint64s differently (boltdb big-endian, raft-wal
// little-endian), so those go through GetUint64/SetUint64.
var (
	stableUint64Keys = []string{"CurrentTerm", "LastVoteTerm"}
	stableKeys       = []string{"LastVoteCand"}
)

// migrateBolt moves a raft.db left by a boltdb-based version into
// <raftDir>/wal. The rename of the finished copy to wal is the commit
// point, so a crash anywhere leaves raft.db in charge (the copy is redone)
// or a complete wal:
//   - no raft.db: nothing to migrate; a stray temp copy is removed.
//   - raft.db and wal: a run crashed after the rename; only retiring
//     raft.db is left.
//   - raft.db alone: copy it into wal.migrating (a leftover one is from a
//     crash mid-copy and is removed first), sync it, rename it to wal and
//     fsync the raft dir.
//
// raft.db is then renamed to raft.db.migrated and the raft dir fsynced.
// The caller holds the raft dir's lock.
func migrateBolt(raftDir string, logger *slog.Logger, hlog hclog.Logger) error {
	tmp := filepath.Join(raftDir, walTempName)
	boltPath := filepath.Join(raftDir, raftDBName)
	found, err := exists(boltPath)
	if err != nil {
		return err
	}
	if !found {
		if err := os.RemoveAll(tmp); err != nil {
			return fmt.Errorf("remove %s: %w", tmp, err)
		}
		return nil
	}
	walDir := filepath.Join(raftDir, walDirName)
	done, err := exists(walDir)
	if err != nil {
		return err
	}
	if done {
		logger.Warn("raft log already migrated, retiring raft.db", "path", boltPath)
	} else if err := copyBolt(boltPath, tmp, logger, hlog); err != nil {
		return err
	} else if err := commitRename(tmp, walDir); err != nil {
		return err
	}
	if err := commitRename(boltPath, filepath.Join(raftDir, raftDBMigrated)); err != nil {
		return err
	}
	logger.Info("raft.db kept as raft.db.migrated; delete it once the node runs well", "dir", raftDir)
	return nil
}

// commitRename renames from to to and fsyncs their (common) parent dir.
func commitRename(from, to string) error {
	if err := os.Rename(from, to); err != nil {
		return fmt.Errorf("rename %s: %w", from, err)
	}
	return syncDir(filepath.Dir(to))
}

// copyBolt copies the Raft log and stable keys of the boltdb store at
// boltPath into a new raft-wal in dir (removed first), and syncs dir.
func copyBolt(boltPath, dir string, logger *slog.Logger, hlog hclog.Logger) error {
	start := time.Now()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", dir, err)
	}
	src, err := raftboltdb.New(raftboltdb.Options{Path: boltPath,
		BoltOptions: &bbolt.Options{Timeout: lockTimeout, ReadOnly: true}})
	if errors.Is(err, bbolt.ErrTimeout) { // a boltdb-based rdb runs on this dir
		err = fmt.Errorf("%w: %w", ErrDirLocked, err)
	}
	if err != nil {
		return fmt.Errorf("open raft log %s: %w", boltPath, err)
	}
	defer src.Close()
	dst, err := openWAL(dir, hlog)
	if err != nil {
		return err
	}
	st, err := copyLog(dst, src)
	if err == nil {
		st.keys, err = copyStable(dst, src)
	}
	if err = errors.Join(err, dst.Close()); err != nil {
		return fmt.Errorf("migrate raft log %s: %w", boltPath, err)
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	logger.Info("migrated raft log from boltdb to raft-wal", "entries", st.entries,
		"first_index", st.first, "last_index", st.last, "skipped", st.skipped,
		"stable_keys", st.keys, "took", time.Since(start))
	return nil
}

// copyStats describes a migration.
type copyStats struct {
	first, last uint64 // the range copied, 0 if the log was empty
	entries     uint64
	skipped     uint64 // entries before a gap, not copied
	keys        int
}

// copyLog copies src's entries to dst in batches of about
// migrateBatchBytes. boltdb accepts gaps (a follower that installs a
// snapshot past its log keeps entries before it), raft-wal does not, and
// entries before a gap are covered by a snapshot: only the run of
// entries ending at the last one is copied.
func copyLog(dst, src raft.LogStore) (copyStats, error) {
	var st copyStats
	first, err := src.FirstIndex()
	if err != nil {
		return st, fmt.Errorf("first index: %w", err)
	}
	if st.last, err = src.LastIndex(); err != nil {
		return st, fmt.Errorf("last index: %w", err)
	}
	if st.last == 0 {
		return st, nil
	}
	if st.first, err = contiguousStart(src, first, st.last); err != nil {
		return st, err
	}
	st.skipped = st.first - first
	var (
		batch []*raft.Log
		size  int
	)
	for i := st.first; i <= st.last; i++ {
		l := new(raft.Log)
		if err := src.GetLog(i, l); err != nil {
			return st, fmt.Errorf("read log %d: %w", i, err)
		}
		batch, size = append(batch, l), size+len(l.Data)+len(l.Extensions)+64
		if size < migrateBatchBytes && i < st.last {
			continue
		}
		if err := dst.StoreLogs(batch); err != nil {
			return st, fmt.Errorf("write logs %d-%d: %w", batch[0].Index, i, err)
		}
		st.entries += uint64(len(batch))
		batch, size = batch[:0], 0
	}
	return st, nil
}

// contiguousStart is the first index of the gapless run of entries in src
// that ends at last.
func contiguousStart(src raft.LogStore, first, last uint64) (uint64, error) {
	var l raft.Log
	for i := last; i > first; i-- {
		err := src.GetLog(i-1, &l)
		if errors.Is(err, raft.ErrLogNotFound) {
			return i, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read log %d: %w", i-1, err)
		}
	}
	return first, nil
}

// copyStable copies raft's stable keys present in src to dst and returns
// how many there were.
func copyStable(dst, src raft.StableStore) (int, error) {
	n := 0
	for _, k := range stableUint64Keys {
		v, err := src.GetUint64([]byte(k))
		if errors.Is(err, raftboltdb.ErrKeyNotFound) {
			continue
		}
		if err == nil {
			err = dst.SetUint64([]byte(k), v)
		}
		if err != nil {
			return n, fmt.Errorf("copy %s: %w", k, err)
		}
		n++
	}
	for _, k := range stableKeys {
		v, err := src.Get([]byte(k))
		if errors.Is(err, raftboltdb.ErrKeyNotFound) {
			continue
		}
		if err == nil {
			err = dst.Set([]byte(k), v)
		}
		if err != nil {
			return n, fmt.Errorf("copy %s: %w", k, err)
		}
		n++
	}
	return n, nil
}

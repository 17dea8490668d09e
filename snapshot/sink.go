package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"
)

// errNoBase refuses an incremental snapshot when the store has no base to
// build on; the FSM must take a whole one.
var errNoBase = errors.New("snapshot: incremental snapshot without a base")

// sink receives one snapshot stream into a temp directory; Close verifies
// it and files it as the new base (a whole database) or as the newest
// incremental snapshot (a WAL).
type sink struct {
	store *Store
	dir   string
	f     *os.File // the payload, written by dec as the stream arrives
	dec   *decoder
	meta  raft.SnapshotMeta
	done  bool
}

func (k *sink) ID() string { return k.meta.ID }

func (k *sink) Write(p []byte) (int, error) {
	n, err := k.dec.Write(p)
	k.meta.Size += int64(n)
	return n, err
}

// Cancel drops the snapshot.
func (k *sink) Cancel() error {
	if k.done {
		return nil
	}
	k.done = true
	k.f.Close()
	return k.store.fs.RemoveAll(k.dir)
}

// Close verifies the stream (length, checksum) and files its payload.
func (k *sink) Close() error {
	if k.done {
		return nil
	}
	k.done = true
	err := k.file()
	if err != nil {
		k.store.fs.RemoveAll(k.dir)
		return fmt.Errorf("close snapshot %s: %w", k.meta.ID, err)
	}
	return nil
}

func (k *sink) file() error {
	fsm, version, err := k.dec.finish()
	if err := errors.Join(err, k.f.Close()); err != nil {
		return err
	}
	s := k.store
	// meta.json's rename syncs the directory, so data is durable too.
	if err := s.writeStoredMeta(k.dir, storedMeta{Raft: k.meta, FSM: fsm}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if wholeDB(version) {
		if err := s.rename(k.dir, filepath.Join(s.dir, baseNewDir)); err != nil {
			return err
		}
		if err := s.installBase(); err != nil {
			return err
		}
		s.verified = k.meta.ID
		return nil
	}
	if !s.HasBase() {
		return errNoBase
	}
	if err := s.rename(k.dir, filepath.Join(s.dir, walPrefix+k.meta.ID)); err != nil {
		return err
	}
	if n, err := s.reapLocked(s.retain); err != nil {
		s.logger.Error("reap incremental snapshots", "error", err)
	} else if n > 0 {
		s.logger.Debug("folded incremental snapshots into the base", "count", n)
	}
	return nil
}

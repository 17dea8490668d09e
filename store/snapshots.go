package store

import (
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Snapshot forces a snapshot and log truncation now (POST /snapshot),
// keeping trailingLogs entries after it (0: Config.TrailingLogs).
// ErrNothingNewToSnapshot if nothing was applied since the last one.
func (s *Store) Snapshot(trailingLogs uint64) error {
	if !s.IsOpen() {
		return ErrNotOpen
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if !s.snapshotDue() {
		return ErrNothingNewToSnapshot
	}
	if trailingLogs > 0 {
		rc := s.raft.ReloadableConfig()
		rc.TrailingLogs = trailingLogs
		if err := s.raft.ReloadConfig(rc); err != nil {
			return fmt.Errorf("set trailing logs %d: %w", trailingLogs, err)
		}
		defer func() {
			rc.TrailingLogs = s.cfg.TrailingLogs
			if err := s.raft.ReloadConfig(rc); err != nil {
				s.logger.Error("restore trailing logs", "error", err)
			}
		}()
	}
	if err := raftError(s.raft.Snapshot().Error()); err != nil {
		if errors.Is(err, ErrNothingNewToSnapshot) {
			return err
		}
		return fmt.Errorf("snapshot: %w", err)
	}
	counters().Add(numUserSnapshots, 1)
	return nil
}

// monitorWAL snapshots when the database's WAL outgrows SnapshotWALSize,
// checking every SnapshotInterval: a snapshot checkpoints and truncates
// the WAL (see fsmSnapshot.Persist).
func (s *Store) monitorWAL() {
	defer s.wg.Done()
	if s.cfg.SnapshotWALSize == 0 {
		return
	}
	t := time.NewTicker(s.cfg.SnapshotInterval)
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
			s.snapshotIfWALLarge()
		}
	}
}

func (s *Store) snapshotIfWALLarge() {
	size, err := s.db.WALSize()
	if err != nil {
		s.logger.Warn("check WAL size", "error", err)
		return
	}
	if size < 0 || uint64(size) < s.cfg.SnapshotWALSize {
		return
	}
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if !s.snapshotDue() {
		return
	}
	err = s.raft.Snapshot().Error()
	switch {
	case err == nil:
		counters().Add(numWALSnapshots, 1)
	case errors.Is(err, raft.ErrNothingNewToSnapshot):
	default:
		s.logger.Warn("snapshot for WAL size", "wal_bytes", size, "error", err)
	}
}

// snapshotDue reports whether the FSM has applied anything since the
// newest snapshot (raft itself only refuses when nothing was ever applied).
func (s *Store) snapshotDue() bool {
	metas, err := s.snaps.List()
	if err != nil || len(metas) == 0 {
		return true
	}
	st, _ := s.proc.applied()
	return st.Index > metas[0].Index
}

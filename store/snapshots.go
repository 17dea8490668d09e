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
	if err := s.snapshotKeeping(trailingLogs); err != nil {
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
		case <-s.walNudge:
		}
		s.snapshotIfWALLarge()
	}
}

// noteApplied counts command bytes applied (FSM goroutine) and, once a
// quarter of SnapshotWALSize has been applied since the last nudge, asks
// monitorWAL to check the WAL now rather than at its next tick: a burst
// of large writes then snapshots (and compacts the log, trailingWithin)
// within moments, not up to SnapshotInterval later, so a node that joins
// right after it installs the snapshot instead of replaying the burst.
func (s *Store) noteApplied(bytes int) {
	if s.cfg.SnapshotWALSize == 0 {
		return
	}
	s.appliedSinceNudge += uint64(bytes)
	if s.appliedSinceNudge < s.cfg.SnapshotWALSize/4 {
		return
	}
	s.appliedSinceNudge = 0
	select {
	case s.walNudge <- struct{}{}:
	default: // a check is already pending
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
	err = s.snapshotKeeping(s.trailingWithin(s.cfg.SnapshotWALSize))
	switch {
	case err == nil:
		counters().Add(numWALSnapshots, 1)
	case errors.Is(err, ErrNothingNewToSnapshot):
	default:
		s.logger.Warn("snapshot for WAL size", "wal_bytes", size, "error", err)
	}
}

// snapshotKeeping snapshots, keeping trailingLogs entries in the log
// after it instead of the configured number if it is positive and fewer.
// The caller holds snapMu.
func (s *Store) snapshotKeeping(trailingLogs uint64) error {
	if trailingLogs > 0 && trailingLogs != s.cfg.TrailingLogs {
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
	return raftError(s.raft.Snapshot().Error())
}

// trailingWithin is how many of the newest log entries (at most the
// configured trailing logs, at least 1) hold no more than budget bytes of
// commands. A snapshot taken because the WAL grew past its bound follows
// writes of many megabytes; keeping them all in the log would make a
// lagging or new node replay every statement (holding the entries in
// memory as it goes) where installing the snapshot streams a file, so
// only the newest budget's worth is kept.
func (s *Store) trailingWithin(budget uint64) uint64 {
	first, err1 := s.logs.FirstIndex()
	last, err2 := s.logs.LastIndex()
	if err1 != nil || err2 != nil || last == 0 {
		return s.cfg.TrailingLogs
	}
	var n, total uint64
	var l raft.Log
	for i := last; i >= first && i > 0 && n < s.cfg.TrailingLogs; i-- {
		if err := s.logs.GetLog(i, &l); err != nil {
			break
		}
		if total += uint64(len(l.Data)); total > budget {
			break
		}
		n++
	}
	return max(n, 1)
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

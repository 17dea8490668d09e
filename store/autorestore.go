package store

import (
	"context"
	"fmt"
	"time"
)

// Counters of auto-restores in the expvar map "store" (OPS.md §2.4).
const (
	numAutoRestores        = "num_auto_restores"
	numAutoRestoresFailed  = "num_auto_restores_failed"
	numAutoRestoresSkipped = "num_auto_restores_skipped"
)

func init() {
	for _, k := range []string{numAutoRestores, numAutoRestoresFailed, numAutoRestoresSkipped} {
		counters().Add(k, 0)
	}
}

// AutoRestore waits until a leader is known, then, on the leader, loads
// the SQLite file at path through the log as Load does (every node gets
// it); on any other node it does nothing, since the leader's load reaches
// it through the log. It reports whether this node loaded the file.
func (s *Store) AutoRestore(ctx context.Context, path string) (bool, error) {
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	for s.LeaderID() == "" {
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-t.C:
		}
	}
	if !s.IsLeader() {
		counters().Add(numAutoRestoresSkipped, 1)
		return false, nil
	}
	if err := s.Load(ctx, path); err != nil {
		counters().Add(numAutoRestoresFailed, 1)
		return false, fmt.Errorf("auto-restore: %w", err)
	}
	counters().Add(numAutoRestores, 1)
	return true, nil
}

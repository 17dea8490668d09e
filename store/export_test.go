package store

import (
	"context"
	"fmt"
	"time"
)

// WaitForLeader blocks until a leader is known and returns its Raft
// address, or returns ctx's error.
func (s *Store) WaitForLeader(ctx context.Context) (string, error) {
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	for {
		if addr := s.LeaderAddr(); addr != "" {
			return addr, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return "", fmt.Errorf("wait for leader: %w", ctx.Err())
		}
	}
}

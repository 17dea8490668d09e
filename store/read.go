package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

const (
	defaultLinearizableTimeout = 10 * time.Second
	// maxCatchUpScan bounds the log entries inspected by caughtUp.
	maxCatchUpScan = 64
	// catchUpPoll re-checks caughtUp when the entries still ahead are ones
	// the FSM never sees (and so never signals).
	catchUpPoll = 5 * time.Millisecond
)

// errUpgrade sends a linearizable read through the log.
var errUpgrade = errors.New("no entry of the current term applied")

// Query runs req's statements as reads at req.Level (API.md §2). A write
// statement fails in its slot with db.ErrQueryWrite's text.
func (s *Store) Query(ctx context.Context, req *Request) (Response, error) {
	if err := s.checkRequest(req); err != nil {
		return Response{}, err
	}
	return s.read(ctx, req, cmdQuery, db.ModeQuery)
}

// read serves a read-only request at its level; typ and mode are used if
// the read goes through the log (strong, or an upgraded linearizable).
func (s *Store) read(ctx context.Context, req *Request, typ commandType, mode db.Mode) (Response, error) {
	resp, err := s.readAtLevel(ctx, req, typ, mode)
	if errors.Is(err, ErrLeadershipLost) {
		// Unlike a write, a read whose entry may or may not have committed
		// is safe to run again on the new leader.
		err = ErrNotLeader
	}
	return resp, err
}

func (s *Store) readAtLevel(ctx context.Context, req *Request, typ commandType, mode db.Mode) (Response, error) {
	switch s.effectiveLevel(req.Level) {
	case LevelNone:
		if err := s.checkFreshness(req); err != nil {
			return Response{}, err
		}
	case LevelWeak:
		if s.raft.State() != raft.Leader {
			return Response{}, ErrNotLeader
		}
	case LevelLinearizable:
		err := s.readIndex(ctx, req.LinearizableTimeout)
		if errors.Is(err, errUpgrade) {
			counters().Add(numLinearizableUpgrades, 1)
			return s.applyRequest(ctx, typ, req, mode)
		}
		if err != nil {
			return Response{}, err
		}
	case LevelStrong:
		if !s.slot.held.Load() {
			return s.applyRequest(ctx, typ, req, mode)
		}
		// An interactive transaction holds the write slot: a strong read
		// through the log would wait for it, so it is served with a read
		// index instead, which sees every write committed before it too
		// (readers are never blocked by a transaction).
		if err := s.readIndex(ctx, req.LinearizableTimeout); err != nil {
			if errors.Is(err, errUpgrade) {
				return s.applyRequest(ctx, typ, req, mode)
			}
			return Response{}, err
		}
	}
	return s.queryLocal(ctx, req)
}

func (s *Store) queryLocal(ctx context.Context, req *Request) (Response, error) {
	res, err := s.db.Query(ctx, &req.Request)
	if err != nil {
		return Response{}, fmt.Errorf("query database: %w", err)
	}
	return Response{Results: res}, nil
}

// effectiveLevel resolves auto: weak on voters, none on non-voters.
func (s *Store) effectiveLevel(l Level) Level {
	if l != LevelAuto {
		return l
	}
	if s.isVoter() {
		return LevelWeak
	}
	return LevelNone
}

// checkFreshness applies req's freshness bound to a level-none read on a
// follower; the leader is always fresh.
func (s *Store) checkFreshness(req *Request) error {
	if req.Freshness <= 0 || s.raft.State() == raft.Leader {
		return nil
	}
	st, _ := s.proc.applied()
	caughtUp := s.caughtUp(s.raft.CommitIndex())
	if isStale(time.Now(), s.raft.LastContact(), st, caughtUp, req.Freshness, req.FreshnessStrict) {
		counters().Add(numStaleReads, 1)
		return ErrStaleRead
	}
	return nil
}

// isStale decides a freshness-bounded read (API.md §2): stale if the
// leader was last heard from more than freshness ago; with strict, also
// if the node is behind and the last entry it applied took more than
// freshness from the leader's append to the local apply.
func isStale(now, lastContact time.Time, st appliedState, caughtUp bool, freshness time.Duration, strict bool) bool {
	if now.Sub(lastContact) > freshness {
		return true
	}
	if !strict || st.AppliedAt.IsZero() || st.AppendedAt.IsZero() || caughtUp {
		return false
	}
	return st.AppliedAt.Sub(st.AppendedAt) > freshness
}

// readIndex makes a local read linearizable without a log entry: note the
// commit index, confirm leadership with a heartbeat round, and wait until
// the FSM has applied up to the noted index. Until an entry of the current
// term has been applied the commit index may be stale, so it returns
// errUpgrade (see DESIGN.md).
func (s *Store) readIndex(ctx context.Context, timeout time.Duration) error {
	if hooks.noConfirm {
		return s.readIndexUnconfirmed(ctx, timeout)
	}
	if s.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	term := s.raft.CurrentTerm()
	if st, _ := s.proc.applied(); st.Term != term {
		return errUpgrade
	}
	index := s.raft.CommitIndex()
	if err := s.confirm.confirm(ctx); err != nil {
		return err
	}
	if s.raft.CurrentTerm() != term {
		return ErrNotLeader
	}
	if s.caughtUp(index) {
		return nil // the usual case: nothing to wait for, no timer
	}
	if timeout <= 0 {
		timeout = defaultLinearizableTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.waitApplied(ctx, index); err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("index %d: %w", index, ErrFSMTimeout)
		}
		return err
	}
	return nil
}

// waitApplied blocks until the FSM has applied everything up to index.
func (s *Store) waitApplied(ctx context.Context, index uint64) error {
	poll := time.NewTicker(catchUpPoll)
	defer poll.Stop()
	for {
		_, changed := s.proc.applied()
		if s.caughtUp(index) {
			return nil
		}
		select {
		case <-changed:
		case <-poll.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// caughtUp reports whether the database reflects every entry up to index.
// The FSM's own index only moves on entries it sees (commands and
// configurations); raft's applied index moves when entries are handed to
// the FSM, not when they are applied. So: the database is caught up if the
// FSM's index reached index, or if raft has handed over everything up to
// index and the entries past the FSM's index are ones the FSM never sees
// (the leader's term-start no-op, barriers). Those entries are always in
// the log: raft only compacts up to a snapshot, whose index is the last
// entry the FSM saw.
func (s *Store) caughtUp(index uint64) bool {
	st, _ := s.proc.applied()
	if st.Index >= index {
		return true
	}
	if s.raft.AppliedIndex() < index || index-st.Index > maxCatchUpScan {
		return false
	}
	var l raft.Log
	for i := st.Index + 1; i <= index; i++ {
		if err := s.logs.GetLog(i, &l); err != nil {
			return false
		}
		if l.Type == raft.LogCommand || l.Type == raft.LogConfiguration {
			return false
		}
	}
	return true
}

// readIndexUnconfirmed is readIndex without any leadership check: the
// broken read the rdb_testhooks switch noConfirm asks for.
func (s *Store) readIndexUnconfirmed(ctx context.Context, timeout time.Duration) error {
	if timeout <= 0 {
		timeout = defaultLinearizableTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.waitApplied(ctx, s.raft.CommitIndex())
}

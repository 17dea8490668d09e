package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// Execute runs req's statements as writes through the Raft log. It needs
// the leader (else ErrNotLeader). A request the database refuses as a
// whole (db.ErrDisallowedPragma, db.ErrUnsupportedType) is returned as the
// error and nothing is applied; statement errors are in the Results.
func (s *Store) Execute(ctx context.Context, req *Request) (Response, error) {
	if err := s.checkRequest(req); err != nil {
		return Response{}, err
	}
	return s.applyRequest(ctx, cmdExecute, req, db.ModeExecute)
}

// Request runs a mix of reads and writes. If every statement is read-only
// and the level is not strong, it is served as a read at req.Level;
// otherwise the whole request is one log entry, applied in db.ModeRequest.
func (s *Store) Request(ctx context.Context, req *Request) (Response, error) {
	if err := s.checkRequest(req); err != nil {
		return Response{}, err
	}
	if req.Level != LevelStrong {
		ro, err := s.db.ReadOnly(ctx, req.Statements)
		if err != nil {
			return Response{}, fmt.Errorf("classify request: %w", err)
		}
		if ro {
			return s.read(ctx, req, cmdRequest, db.ModeRequest)
		}
	}
	return s.applyRequest(ctx, cmdRequest, req, db.ModeRequest)
}

// checkRequest fails fast, before anything is logged.
func (s *Store) checkRequest(req *Request) error {
	if !s.open.Load() {
		return ErrNotOpen
	}
	return s.db.CheckRequest(&req.Request)
}

// applyRequest logs req on the leader, in an entry shared with other
// concurrent requests (batcher), and waits for the FSM's result, at most
// ApplyTimeout.
func (s *Store) applyRequest(ctx context.Context, typ commandType, req *Request, mode db.Mode) (Response, error) {
	if s.raft.State() != raft.Leader {
		return Response{}, ErrNotLeader
	}
	if err := ctx.Err(); err != nil {
		return Response{}, err // the caller is gone: do not log the request
	}
	cr, err := newCommandRequest(&req.Request, mode)
	if err != nil {
		return Response{}, err
	}
	var (
		rr    requestResult
		index uint64
	)
	if db.NeedsAutocommit(&req.Request) {
		// Statements that end or escape the entry's transaction run in an
		// entry of their own, so they never change how others apply.
		rr, index, err = s.applyAlone(ctx, typ, cr)
	} else {
		rr, index, err = s.batch.submit(ctx, cr, s.cfg.ApplyTimeout)
	}
	if err != nil {
		return Response{}, err
	}
	if rr.Err != nil {
		return Response{}, rr.Err
	}
	return Response{Results: rr.Results, RaftIndex: index}, nil
}

// applyAlone logs cr as an entry of its own and waits for its result.
func (s *Store) applyAlone(ctx context.Context, typ commandType, cr commandRequest) (requestResult, uint64, error) {
	b, err := encodeCommand(&command{Type: typ, Time: time.Now().UnixNano(), Requests: []commandRequest{cr}})
	if err != nil {
		return requestResult{}, 0, err
	}
	if err := s.slot.enter(ctx, s.txBusyTimeout(), s.done); err != nil {
		if errors.Is(err, ErrBusy) {
			return busyResult(&cr), 0, nil
		}
		return requestResult{}, 0, err
	}
	f := s.raft.Apply(b, s.cfg.ApplyTimeout)
	s.slot.leave()
	if err := waitFuture(ctx, f, s.cfg.ApplyTimeout); err != nil {
		return requestResult{}, 0, err
	}
	rr, ok := f.Response().([]requestResult)
	if !ok || len(rr) != 1 {
		return requestResult{}, 0, fmt.Errorf("store: unexpected FSM response %T for entry %d", f.Response(), f.Index())
	}
	return rr[0], f.Index(), nil
}

// waitFuture waits for f, at most timeout (if positive) and while ctx
// lives, and translates raft's errors. f was handed to Raft, so giving up
// on it leaves its outcome unknown: a timeout or a deadline is
// ErrApplyTimeout, a cancelled request says the write may still apply;
// neither may be retried.
func waitFuture(ctx context.Context, f raft.Future, timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	select {
	case err := <-done:
		return raftError(err)
	case <-expired:
		return ErrApplyTimeout
	case <-ctx.Done():
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", ErrApplyTimeout, ctx.Err())
		}
		return fmt.Errorf("request cancelled after it reached the log, it may still be applied: %w", ctx.Err())
	}
}

// raftError maps raft's errors to the store's sentinels, which the HTTP
// layer shows verbatim; anything else is wrapped.
func raftError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		// The entry never reached the log: safe to retry on the leader.
		return ErrNotLeader
	case errors.Is(err, raft.ErrLeadershipLost):
		// The entry may still commit under the next leader: retrying could
		// apply it twice, so this is reported, never forwarded again.
		return ErrLeadershipLost
	case errors.Is(err, raft.ErrEnqueueTimeout):
		return ErrEnqueueTimeout
	case errors.Is(err, raft.ErrRaftShutdown):
		return ErrNotOpen
	case errors.Is(err, raft.ErrNothingNewToSnapshot):
		return ErrNothingNewToSnapshot
	}
	return fmt.Errorf("raft: %w", err)
}

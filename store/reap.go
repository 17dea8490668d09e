package store

import (
	"time"

	"github.com/hashicorp/raft"
)

// Names of the reaping counters in the expvar map "store".
const (
	numFailedHeartbeats = "failed_heartbeat_observed"
	numReapedOK         = "nodes_reaped_ok"
	numReapedFailed     = "nodes_reaped_failed"
)

// reapObserverBuffer is how many heartbeat failures may wait for the
// reaper; more are dropped (raft does not block on a full observer), and
// the next failure of the same peer, a heartbeat later, is seen instead.
const reapObserverBuffer = 64

// startReaper watches for failed heartbeats when reaping is on
// (-raft-reap-node-timeout, -raft-reap-read-only-node-timeout): the
// leader removes a member whose last contact is older than the timeout of
// its class, as /remove would. Only the leader heartbeats, so only it
// reaps. It runs until the store closes.
func (s *Store) startReaper() {
	if s.cfg.ReapTimeout <= 0 && s.cfg.ReapReadOnlyTimeout <= 0 {
		return
	}
	ch := make(chan raft.Observation, reapObserverBuffer)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.FailedHeartbeatObservation)
		return ok
	})
	s.raft.RegisterObserver(obs)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.raft.DeregisterObserver(obs)
		r := reaper{s: s, firstFailure: map[raft.ServerID]time.Time{}}
		for {
			select {
			case o := <-ch:
				if f, ok := o.Data.(raft.FailedHeartbeatObservation); ok {
					r.failed(f)
				}
			case <-s.done:
				return
			}
		}
	}()
}

// reaper is the state of the reaping goroutine.
type reaper struct {
	s *Store
	// firstFailure stands in for the last contact of a peer the leader
	// never reached (raft reports a zero time then).
	firstFailure map[raft.ServerID]time.Time
}

// failed handles one failed heartbeat to f.PeerID.
func (r *reaper) failed(f raft.FailedHeartbeatObservation) {
	s := r.s
	counters().Add(numFailedHeartbeats, 1)
	if !s.IsLeader() {
		return
	}
	srv, err := s.server(string(f.PeerID))
	if err != nil {
		delete(r.firstFailure, f.PeerID) // no longer a member
		return
	}
	timeout := s.cfg.ReapReadOnlyTimeout
	if srv.Voter {
		timeout = s.cfg.ReapTimeout
	}
	if timeout <= 0 {
		return
	}
	last := f.LastContact
	if last.IsZero() {
		if _, ok := r.firstFailure[f.PeerID]; !ok {
			r.firstFailure[f.PeerID] = time.Now()
		}
		last = r.firstFailure[f.PeerID]
	}
	if since := time.Since(last); since <= timeout {
		return
	}
	if err := s.removeServer(srv.ID); err != nil {
		counters().Add(numReapedFailed, 1)
		s.logger.Warn("reaping unreachable node failed", "id", srv.ID, "addr", srv.Addr, "voter", srv.Voter, "error", err)
		return
	}
	delete(r.firstFailure, f.PeerID)
	counters().Add(numReapedOK, 1)
	s.logger.Info("reaped unreachable node", "id", srv.ID, "addr", srv.Addr, "voter", srv.Voter,
		"last_contact", last, "timeout", timeout)
}

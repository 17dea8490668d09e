package store

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/hashicorp/raft"
)

// leaderPoll is how often a wait for a leader looks for one.
const leaderPoll = 10 * time.Millisecond

// IsOpen reports whether Open has completed and Close has not started.
func (s *Store) IsOpen() bool { return s.open.Load() }

// Ready reports whether the store is open, knows a leader, and has
// applied every command its log held at Open (the database file keeps
// its applied index across restarts, so only the entries it lacks are
// replayed; see startsync.go).
func (s *Store) Ready() bool {
	if !s.IsOpen() || s.LeaderAddr() == "" {
		return false
	}
	if !s.synced.Load() && s.caughtUp(s.openIndex) {
		s.synced.Store(true)
	}
	return s.synced.Load()
}

// IsLeader reports whether this node is the leader.
func (s *Store) IsLeader() bool { return s.IsOpen() && s.raft.State() == raft.Leader }

// LeaderAddr is the leader's Raft address, "" if none is known.
func (s *Store) LeaderAddr() string {
	addr, _ := s.leader()
	return addr
}

// LeaderID is the leader's node ID, "" if none is known.
func (s *Store) LeaderID() string {
	_, id := s.leader()
	return id
}

func (s *Store) leader() (addr, id string) {
	if !s.IsOpen() {
		return "", ""
	}
	a, i := s.raft.LeaderWithID()
	return string(a), string(i)
}

// Servers lists the members of the latest Raft configuration, by ID.
func (s *Store) Servers() ([]Server, error) {
	if !s.IsOpen() {
		return nil, ErrNotOpen
	}
	return s.servers()
}

func (s *Store) servers() ([]Server, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("get raft configuration: %w", raftError(err))
	}
	cfg := f.Configuration()
	out := make([]Server, len(cfg.Servers))
	for i, srv := range cfg.Servers {
		out[i] = Server{ID: string(srv.ID), Addr: string(srv.Address), Voter: srv.Suffrage == raft.Voter}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// isVoter reports whether this node is a voter in the latest configuration.
// A node not (yet) in it counts as a voter unless configured as a
// non-voter.
func (s *Store) isVoter() bool {
	srv, err := s.server(s.cfg.NodeID)
	if err != nil {
		return !s.cfg.NonVoter
	}
	return srv.Voter
}

// otherVoters counts the voters other than this node.
func (s *Store) otherVoters() int {
	// Not Servers: Close calls this after marking the store closed.
	servers, err := s.servers()
	if err != nil {
		return 0
	}
	n := 0
	for _, srv := range servers {
		if srv.Voter && srv.ID != s.cfg.NodeID {
			n++
		}
	}
	return n
}

// WaitForSync blocks until the database reflects the commit index this
// node has learnt from the leader, or ctx ends.
func (s *Store) WaitForSync(ctx context.Context) error {
	if !s.IsOpen() {
		return ErrNotOpen
	}
	index := s.raft.CommitIndex()
	if err := s.waitApplied(ctx, index); err != nil {
		return fmt.Errorf("wait for applied index %d: %w", index, err)
	}
	return nil
}

// Ping runs SELECT 1 on a local read connection.
func (s *Store) Ping(ctx context.Context) error {
	if !s.IsOpen() {
		return ErrNotOpen
	}
	return s.db.Ping(ctx)
}

// AppliedIndex is the index of the last entry the FSM applied.
func (s *Store) AppliedIndex() uint64 {
	if s.proc == nil {
		return 0
	}
	st, _ := s.proc.applied()
	return st.Index
}

// CommitIndex is the highest log index this node knows to be committed.
func (s *Store) CommitIndex() uint64 {
	if !s.IsOpen() {
		return 0
	}
	return s.raft.CommitIndex()
}

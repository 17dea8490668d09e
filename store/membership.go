package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Join adds the node id at Raft address addr as a voter or non-voter. It
// needs the leader. A member with the same ID and address makes it a no-op
// (num_ignored_joins); a member with the same ID or the same address, but
// not both, is removed first (num_removed_before_joins), as when a node
// restarts with a new address.
func (s *Store) Join(id, addr string, voter bool) error {
	if err := s.leaderOnly(); err != nil {
		return err
	}
	servers, err := s.Servers()
	if err != nil {
		return err
	}
	for _, srv := range servers {
		switch {
		case srv.ID == id && srv.Addr == addr:
			counters().Add(numIgnoredJoins, 1)
			s.logger.Info("ignoring join of existing member", "id", id, "addr", addr)
			return nil
		case srv.ID == id || srv.Addr == addr:
			if err := s.removeServer(srv.ID); err != nil {
				return fmt.Errorf("remove %s (%s) before join: %w", srv.ID, srv.Addr, err)
			}
			counters().Add(numRemovedBeforeJoins, 1)
		}
	}
	var f raft.IndexFuture
	if voter {
		f = s.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), 0, s.cfg.ApplyTimeout)
	} else {
		f = s.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(addr), 0, s.cfg.ApplyTimeout)
	}
	if err := waitFuture(context.Background(), f, s.cfg.ApplyTimeout); err != nil {
		return fmt.Errorf("add %s (%s): %w", id, addr, err)
	}
	s.logger.Info("node joined", "id", id, "addr", addr, "voter", voter)
	return nil
}

// Remove removes the member id from the cluster. It needs the leader.
func (s *Store) Remove(id string) error {
	if err := s.leaderOnly(); err != nil {
		return err
	}
	if _, err := s.server(id); err != nil {
		return err
	}
	if err := s.removeServer(id); err != nil {
		return fmt.Errorf("remove %s: %w", id, err)
	}
	s.logger.Info("node removed", "id", id)
	return nil
}

func (s *Store) removeServer(id string) error {
	f := s.raft.RemoveServer(raft.ServerID(id), 0, s.cfg.ApplyTimeout)
	return waitFuture(context.Background(), f, s.cfg.ApplyTimeout)
}

// Stepdown transfers leadership to the member id, or to the most
// up-to-date voter if id is empty. It needs the leader, and naming the
// leader itself is ErrStepdownSelf. With wait it returns once another node
// leads (or ctx ends).
func (s *Store) Stepdown(ctx context.Context, id string, wait bool) error {
	if err := s.leaderOnly(); err != nil {
		return err
	}
	var f raft.Future
	switch {
	case id == s.cfg.NodeID:
		return ErrStepdownSelf
	case id == "":
		f = s.raft.LeadershipTransfer()
	default:
		srv, err := s.server(id)
		if err != nil {
			return err
		}
		f = s.raft.LeadershipTransferToServer(raft.ServerID(srv.ID), raft.ServerAddress(srv.Addr))
	}
	if err := waitFuture(ctx, f, 0); err != nil {
		return fmt.Errorf("transfer leadership: %w", err)
	}
	if !wait {
		return nil
	}
	return s.waitForOtherLeader(ctx)
}

// waitForOtherLeader polls until a node other than this one leads.
func (s *Store) waitForOtherLeader(ctx context.Context) error {
	t := time.NewTicker(leaderPoll)
	defer t.Stop()
	for {
		if id := s.LeaderID(); id != "" && id != s.cfg.NodeID {
			return nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return fmt.Errorf("wait for new leader: %w", ctx.Err())
		}
	}
}

// leaderOnly fails unless the store is open and leads.
func (s *Store) leaderOnly() error {
	if !s.IsOpen() {
		return ErrNotOpen
	}
	if s.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	return nil
}

// server finds member id in the configuration.
func (s *Store) server(id string) (Server, error) {
	servers, err := s.Servers()
	if err != nil {
		return Server{}, err
	}
	for _, srv := range servers {
		if srv.ID == id {
			return srv, nil
		}
	}
	return Server{}, fmt.Errorf("%s: %w", id, ErrNodeNotFound)
}

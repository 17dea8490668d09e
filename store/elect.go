package store

import (
	"context"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Early election after a restart or a bootstrap.
//
// A node restarted with Raft state starts as a follower and, hearing no
// leader, waits a randomized heartbeat timeout (1–2 s by default) before it
// campaigns. When the whole cluster restarts, every node waits like that,
// so "all nodes ready" costs at least one heartbeat timeout though nothing
// is wrong. electEarly cuts that wait when it is certain nobody is leading
// yet from this node's point of view: it has never heard from a leader
// since it started, and a quorum of the configuration's voters (itself
// included) accept TCP connections on their Raft addresses, so an election
// can finish at once. It then asks raft for an election now rather than
// after the timeout, through ReloadConfig: lowering the heartbeat timeout
// makes a follower re-check its timer immediately, and with no contact
// since start the check fails and the follower campaigns. The configured
// timeout is put back straight after.
//
// Safety is raft's: an election is always safe, and pre-vote (on by
// default in hashicorp/raft) keeps an early campaign from disturbing a
// cluster that still has a leader, since peers that hear from a leader
// refuse the pre-vote. To keep several restarted nodes from campaigning in
// the same instant and splitting the vote, each waits its rank among the
// voters (sorted by ID) times earlyElectStagger first; the first to win
// makes the others followers, and their nudge is then skipped.
const (
	earlyElectStagger = 150 * time.Millisecond
	earlyElectPoll    = 25 * time.Millisecond
	earlyElectDial    = 200 * time.Millisecond
)

// electEarly runs once after Open on a node that has Raft state, and after
// Bootstrap on a new one. It gives up when a leader appears, when the node
// is not a voter, or after one heartbeat timeout (raft's own timer takes
// over then).
func (s *Store) electEarly() {
	defer s.wg.Done()
	start := time.Now()
	giveUp := start.Add(s.cfg.HeartbeatTimeout)
	var quorumSince time.Time
	for time.Now().Before(giveUp) {
		select {
		case <-s.done:
			return
		case <-time.After(earlyElectPoll):
		}
		if s.heardFromLeader() {
			return
		}
		cfg, err := s.configuration()
		if err != nil {
			return
		}
		voters, rank := votersAndRank(cfg, raft.ServerID(s.cfg.NodeID))
		if rank < 0 {
			return // a non-voter never campaigns
		}
		if quorumSince.IsZero() {
			if s.reachable(voters) < len(voters)/2+1 {
				continue
			}
			quorumSince = time.Now()
		}
		if time.Since(quorumSince) < time.Duration(rank)*earlyElectStagger {
			continue
		}
		s.nudgeElection(time.Since(start))
		return
	}
}

// heardFromLeader reports whether raft knows a leader or has had contact
// from one since it started, or is past being a plain follower.
func (s *Store) heardFromLeader() bool {
	if addr, _ := s.raft.LeaderWithID(); addr != "" {
		return true
	}
	return s.raft.State() != raft.Follower || !s.raft.LastContact().IsZero()
}

// configuration is raft's latest cluster configuration.
func (s *Store) configuration() (raft.Configuration, error) {
	f := s.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Configuration{}, err
	}
	return f.Configuration(), nil
}

// votersAndRank returns the voters of cfg and self's position among them
// sorted by ID, or -1 if self is not a voter.
func votersAndRank(cfg raft.Configuration, self raft.ServerID) ([]raft.Server, int) {
	var voters []raft.Server
	for _, srv := range cfg.Servers {
		if srv.Suffrage == raft.Voter {
			voters = append(voters, srv)
		}
	}
	slices.SortFunc(voters, func(a, b raft.Server) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	rank := slices.IndexFunc(voters, func(srv raft.Server) bool { return srv.ID == self })
	return voters, rank
}

// reachable counts the voters that accept a connection on their Raft
// address, counting self without dialing.
func (s *Store) reachable(voters []raft.Server) int {
	ctx, cancel := context.WithTimeout(context.Background(), earlyElectDial)
	defer cancel()
	dial := s.cfg.dialPeer
	if dial == nil {
		dial = dialTCP
	}
	var (
		mu sync.Mutex
		n  int
		wg sync.WaitGroup
	)
	for _, srv := range voters {
		if srv.ID == raft.ServerID(s.cfg.NodeID) {
			n++
			continue
		}
		wg.Add(1)
		go func(addr string) {
			defer wg.Done()
			if dial(ctx, addr) == nil {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}(string(srv.Address))
	}
	wg.Wait()
	return n
}

// dialTCP opens and closes a TCP connection to addr. No byte is sent,
// which the peer's mux logs at debug level only.
func dialTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// nudgeElection makes a follower that has had no leader contact campaign
// now: raft re-checks its heartbeat timer when the timeout is lowered.
// snapMu keeps a concurrent trailing-logs reload from being undone.
func (s *Store) nudgeElection(waited time.Duration) {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	if s.heardFromLeader() {
		return
	}
	orig := s.raft.ReloadableConfig()
	lower := orig
	lower.HeartbeatTimeout = orig.HeartbeatTimeout - time.Millisecond
	if err := s.raft.ReloadConfig(lower); err != nil {
		// A lease equal to the heartbeat timeout forbids a lower one:
		// raft's own timer will start the election.
		s.logger.Debug("early election not possible", "error", err)
		return
	}
	if err := s.raft.ReloadConfig(orig); err != nil {
		s.logger.Error("restore heartbeat timeout after early election", "error", err)
	}
	s.logger.Info("no leader since start and a quorum reachable: starting an election now",
		"after", waited.Round(time.Millisecond))
}

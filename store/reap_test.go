package store

import (
	"expvar"
	"slices"
	"testing"
	"time"
)

func counterValue(key string) int64 {
	if v, ok := counters().Get(key).(*expvar.Int); ok {
		return v.Value()
	}
	return 0
}

func memberIDs(t *testing.T, s *Store) []string {
	t.Helper()
	servers, err := s.Servers()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, srv := range servers {
		ids = append(ids, srv.ID)
	}
	return ids
}

// TestStore_Reap_Voter: the leader removes a voter it cannot reach for
// longer than ReapTimeout, and counts it.
func TestStore_Reap_Voter(t *testing.T) {
	nodes := newTestCluster(t, 3, true, func(c *Config) { c.ReapTimeout = 300 * time.Millisecond })
	leader := waitLeader(t, nodes)
	gone := followers(nodes, leader)[0]
	before := counterValue(numReapedOK)
	partition(nodes, gone)
	cut := time.Now()
	waitFor(t, waitTimeout, gone.cfg.NodeID+" to be reaped", func() bool {
		return !slices.Contains(memberIDs(t, leader.Store), gone.cfg.NodeID)
	})
	// The timeout runs from the last contact, which precedes the cut by up
	// to a heartbeat interval (the test cluster's heartbeat timeout / 10)
	// plus a round trip; allow the cluster's whole heartbeat timeout.
	if d := time.Since(cut); d < 300*time.Millisecond-50*time.Millisecond {
		t.Errorf("reaped %v after the partition, before the 300ms timeout", d)
	}
	// The counter moves once the removal's future returns, which can be
	// just after the new membership shows.
	waitFor(t, waitTimeout, "nodes_reaped_ok to count the reap", func() bool {
		return counterValue(numReapedOK)-before >= 1
	})
	if got := counterValue(numReapedOK) - before; got != 1 {
		t.Errorf("nodes_reaped_ok rose by %d, want 1", got)
	}
	st, err := leader.Stats()
	if err != nil || st["reap_timeout"] != "300ms" || st["reap_read_only_timeout"] != "0s" {
		t.Errorf("stats reap_timeout %v, reap_read_only_timeout %v (%v)", st["reap_timeout"], st["reap_read_only_timeout"], err)
	}
}

// TestStore_Reap_OtherClassOnly: with only the read-only timeout set, an
// unreachable voter stays a member.
func TestStore_Reap_OtherClassOnly(t *testing.T) {
	nodes := newTestCluster(t, 3, true, func(c *Config) { c.ReapReadOnlyTimeout = 100 * time.Millisecond })
	leader := waitLeader(t, nodes)
	gone := followers(nodes, leader)[0]
	before := counterValue(numFailedHeartbeats)
	partition(nodes, gone)
	// Heartbeat failures go on being observed, well past the timeout.
	waitFor(t, waitTimeout, "failed heartbeats", func() bool { return counterValue(numFailedHeartbeats)-before >= 5 })
	time.Sleep(300 * time.Millisecond)
	if !slices.Contains(memberIDs(t, leader.Store), gone.cfg.NodeID) {
		t.Errorf("voter %s reaped with only the read-only timeout set", gone.cfg.NodeID)
	}
}

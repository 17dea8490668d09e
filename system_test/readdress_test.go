package system_test

import (
	"fmt"
	"testing"

	"github.com/rdb/rdb/internal/rdbtest"
)

// TestCluster_RestartWithNewAddress restarts a follower under the same
// -node-id at a new Raft address with -join: the leader replaces its
// membership entry, and the node keeps replicating (issue 3, "Forming a
// cluster"). Joining again with an unchanged entry is a no-op.
func TestCluster_RestartWithNewAddress(t *testing.T) {
	nodes := startCluster(t, 3, fastRaft...)
	leader := waitLeader(t, nodes, readyTimeout)
	leader.Execute("/db/execute", fooSchema)
	writeOne(t, leader, 1)

	moved := others(nodes, leader)[0]
	id, oldAddr := moved.ID(), moved.RaftAddr
	moved.Stop()
	moved.RaftAddr = rdbtest.AnyPort // the node keeps its ID
	moved.Args = append(moved.Args, "-join", leader.RaftAddr)
	moved.Start()
	moved.WaitReady(readyTimeout)

	waitUntil(t, readyTimeout, "the leader to list the moved node at its new address", func() (bool, string) {
		got, err := nodesV2(leader, "nonvoters")
		if err != nil {
			return false, err.Error()
		}
		for _, n := range got {
			if n.Addr == oldAddr {
				return false, fmt.Sprintf("old address %s still listed: %+v", oldAddr, got)
			}
		}
		for _, n := range got {
			if n.ID == id && n.Addr == moved.RaftAddr && n.Reachable {
				return len(got) == 3, fmt.Sprintf("%+v", got)
			}
		}
		return false, fmt.Sprintf("%+v", got)
	})
	if debugVar(t, leader, "store", "num_removed_before_joins") < 1 {
		t.Errorf("store.num_removed_before_joins did not count the re-addressed join")
	}
	writeOne(t, leader, 2)
	waitCount(t, moved, "foo", 2, readyTimeout)

	// The same node joining again unchanged is ignored.
	moved.Stop()
	moved.Start()
	moved.WaitReady(readyTimeout)
	if debugVar(t, leader, "store", "num_ignored_joins") < 1 {
		t.Errorf("store.num_ignored_joins did not count the unchanged re-join")
	}
	waitMembers(t, leader, ids(nodes...))
}

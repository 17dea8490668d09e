package system_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// writeOne inserts foo row id through n and fails the test unless it was
// acknowledged.
func writeOne(t *testing.T, n *Node, id int) {
	t.Helper()
	body := n.Execute("/db/execute", fmt.Sprintf(`[["INSERT INTO foo(id, name) VALUES(?, ?)", %d, "name-%d"]]`, id, id))
	if ok, msg := acknowledged(http.StatusOK, []byte(body)); !ok {
		t.Fatalf("insert %d via %s: %s", id, n.ID(), msg)
	}
}

// checkNodeList checks that /nodes?ver=2 on each of nodes lists exactly
// want.
func checkNodeList(t *testing.T, nodes []*Node, want []string) {
	t.Helper()
	for _, n := range nodes {
		waitUntil(t, readyTimeout, fmt.Sprintf("/nodes?ver=2 on %s to list %v", n.ID(), want), func() (bool, string) {
			got, err := nodesV2(n, "")
			return err == nil && slices.Equal(nodeIDs(got), want), fmt.Sprintf("%v %v", nodeIDs(got), err)
		})
	}
}

// TestCluster_Remove removes a follower of a four-node cluster with
// DELETE /remove sent to another follower, and checks that the cluster
// shrank in Raft, not only in /nodes: with the removed node stopped, the
// cluster still tolerates one more node stopping, which a four-node
// cluster could not. A node with -raft-cluster-remove-shutdown leaves
// the cluster when stopped (issue 3, acceptance 4).
func TestCluster_Remove(t *testing.T) {
	nodes := startClusterFlags(t, [][]string{fastRaft, fastRaft, fastRaft, append(slices.Clone(fastRaft), "-raft-cluster-remove-shutdown")})
	leader, leaver := waitLeader(t, nodes, readyTimeout), nodes[3]
	if leader == leaver {
		t.Fatalf("%s, started with -raft-cluster-remove-shutdown, leads; want it a follower", leader.ID())
	}
	followers := others(nodes, leader, leaver)
	removed, stopped := followers[0], followers[1]
	leader.Execute("/db/execute", fooSchema)

	code, h, body, err := stopped.DoHeader("DELETE", "/remove", "application/json", `{"id":"`+removed.ID()+`"}`)
	if err != nil || code != http.StatusOK || body != "" {
		t.Fatalf("DELETE /remove %s via follower %s: %d %q %v, want 200 and no body", removed.ID(), stopped.ID(), code, body, err)
	}
	if got := h.Get("X-Rqlite-Served-By"); got != leader.RaftAddr {
		t.Errorf("DELETE /remove via a follower: X-RQLITE-SERVED-BY %q, want the leader's %q", got, leader.RaftAddr)
	}
	remaining := []*Node{leader, stopped, leaver}
	for _, n := range remaining {
		waitMembers(t, n, ids(remaining...))
	}
	checkNodeList(t, remaining, ids(remaining...))
	waitUntil(t, readyTimeout, "the removed node to stop hearing from the leader", func() (bool, string) {
		s, err := removed.Status()
		return err == nil && s.Leader.NodeID == "", fmt.Sprintf("leader %q, %v", s.Leader.NodeID, err)
	})
	removed.Stop()
	writeOne(t, leaver, 1)

	// Three voters tolerate one stopped node; four would not.
	stopped.Stop()
	writeOne(t, leaver, 2)
	writeOne(t, leader, 3)
	stopped.Start()
	stopped.WaitReady(readyTimeout)
	waitCount(t, stopped, "foo", 3, readyTimeout)

	// A graceful stop with -raft-cluster-remove-shutdown leaves the cluster.
	leaver.Stop()
	waitMembers(t, leader, ids(leader, stopped))
	checkNodeList(t, []*Node{leader, stopped}, ids(leader, stopped))
	writeOne(t, stopped, 4)
	if got, err := countAt(leader, "foo", "strong"); err != nil || got != 4 {
		t.Errorf("after the removals: %d rows (%v), want 4", got, err)
	}
}

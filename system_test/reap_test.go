package system_test

import (
	"fmt"
	"testing"
	"time"
)

// TestReap_DownNodesRemoved runs three voters and a non-voter with
// -raft-reap-node-timeout and -raft-reap-read-only-node-timeout, stops a
// follower voter and the non-voter, and waits for the leader to remove
// both and count them (issue 13, acceptance 4). The survivors keep
// serving writes.
func TestReap_DownNodesRemoved(t *testing.T) {
	reap := []string{"-raft-reap-node-timeout", "3s", "-raft-reap-read-only-node-timeout", "2s"}
	flags := [][]string{reap, reap, reap, append([]string{"-raft-non-voter"}, reap...)}
	nodes := startClusterFlags(t, flags)
	voters, nv := nodes[:3], nodes[3]
	leader := waitLeader(t, voters, readyTimeout)

	st, err := statusSection(leader, "store")
	if err != nil {
		t.Fatal(err)
	}
	if st["reap_timeout"] != "3s" || st["reap_read_only_timeout"] != "2s" {
		t.Errorf("/status store reap_timeout %v, reap_read_only_timeout %v; want 3s, 2s", st["reap_timeout"], st["reap_read_only_timeout"])
	}
	okBefore := debugVar(t, leader, "store", "nodes_reaped_ok")

	down := others(voters, leader)[0]
	down.Stop()
	nv.Stop()
	stopped := time.Now()
	survivors := others(voters, down)
	waitMembers(t, leader, ids(survivors...))
	if d := time.Since(stopped); d < 2*time.Second {
		t.Errorf("nodes removed %v after they stopped, before their reap timeouts", d)
	}
	if got := debugVar(t, leader, "store", "nodes_reaped_ok") - okBefore; got != 2 {
		t.Errorf("store.nodes_reaped_ok rose by %d, want 2", got)
	}
	if got := debugVar(t, leader, "store", "failed_heartbeat_observed"); got == 0 {
		t.Error("store.failed_heartbeat_observed is 0 after two nodes went down")
	}
	if got := debugVar(t, leader, "store", "nodes_reaped_failed"); got != 0 {
		t.Errorf("store.nodes_reaped_failed = %d, want 0", got)
	}
	leader.Execute("/db/execute", fooSchema)
	for i, n := range survivors {
		n.Execute("/db/execute", fmt.Sprintf(`["INSERT INTO foo(id, name) VALUES(%d, 'x')"]`, i+1))
	}
	for _, n := range survivors {
		waitCount(t, n, "foo", len(survivors), readyTimeout)
	}
}

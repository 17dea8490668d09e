package system_test

import (
	"testing"
	"time"
)

// maxOutage is the longest unavailability a client may see when the
// leader is killed (500 ms heartbeat and election timeouts).
const maxOutage = 10 * time.Second

// TestFailover_KillLeaderUnderLoad kills -9 the leader while writers go
// through the other two nodes: a new leader is elected, writes resume
// within maxOutage, and every acknowledged write is on every node, once
// (issue 3, acceptance 3).
func TestFailover_KillLeaderUnderLoad(t *testing.T) {
	nodes := startCluster(t, 3, fastRaft...)
	leader := waitLeader(t, nodes, readyTimeout)
	leader.Execute("/db/execute", `["`+loadTable+`"]`)
	survivors := others(nodes, leader)

	l, killedAt := killLeaderUnderLoad(t, leader, survivors, 4, 30)

	all := l.snapshot()
	var worst time.Duration
	for w, as := range all {
		d, ok := outage(as, killedAt)
		if !ok {
			t.Fatalf("writer %d: no acknowledged write on both sides of the kill", w)
		}
		t.Logf("writer %d (via %s): unavailable for %v", w, survivors[w%len(survivors)].ID(), d.Round(time.Millisecond))
		worst = max(worst, d)
	}
	failed := failures(all)
	t.Logf("unavailability window after kill -9 of the leader: max %v over %d writers; %d of the writes failed", worst.Round(time.Millisecond), len(all), len(failed))
	for _, f := range failed[:min(3, len(failed))] {
		t.Logf("  e.g. uid %d at %s: %s", f.uid, f.end.Format("15:04:05.000"), f.err)
	}
	if worst > maxOutage {
		t.Errorf("writes were unavailable for %v after the leader was killed, want under %v", worst, maxOutage)
	}
	acked := l.acked()
	checkAckedPresent(t, survivors, acked)

	// The killed node comes back with its state and catches up too.
	leader.Start()
	leader.WaitReady(readyTimeout)
	checkAckedPresent(t, nodes, acked)
}

// TestFailover_GracefulLeaderShutdown sends SIGTERM to the leader, at the
// default Raft timeouts, while clients write through the other nodes. The
// leader hands over first, so no client waits out an election: writes
// pause (or fail, then succeed on the next try) for less than the
// election timeout, far less than one request timeout, and every
// acknowledged write survives, once (issue 3, acceptance 6).
func TestFailover_GracefulLeaderShutdown(t *testing.T) {
	const (
		requestTimeout  = 5 * time.Second
		electionTimeout = time.Second // rdb's default, as rqlite's
	)
	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes, readyTimeout)
	leader.Execute("/db/execute", `["`+loadTable+`"]`)
	survivors := others(nodes, leader)

	begin := time.Now()
	l := startLoad(t, survivors, 4, requestTimeout, 2*time.Minute)
	l.waitAcks(t, begin, 30, 30*time.Second)

	stoppedAt := time.Now()
	leader.Stop()
	t.Logf("leader %s stopped gracefully in %v", leader.ID(), time.Since(stoppedAt).Round(time.Millisecond))
	newLeader := waitLeader(t, survivors, 20*time.Second)
	l.waitAcks(t, time.Now(), 30, 30*time.Second)
	l.stopLoad()

	all := l.snapshot()
	var worst time.Duration
	for w, as := range all {
		g := longestGap(as)
		t.Logf("writer %d (via %s): %d writes, longest gap between acknowledgements %v", w, survivors[w%len(survivors)].ID(), len(as), g.Round(time.Millisecond))
		worst = max(worst, g)
	}
	failed := failures(all)
	t.Logf("graceful leader shutdown: new leader %s, longest write gap %v, %d failed writes", newLeader.ID(), worst.Round(time.Millisecond), len(failed))
	for _, f := range failed[:min(5, len(failed))] {
		t.Logf("  failed: uid %d at %v after SIGTERM: %s", f.uid, f.end.Sub(stoppedAt).Round(time.Millisecond), f.err)
	}
	// Without a handover the followers wait out a heartbeat timeout and
	// hold an election: the gap is at least electionTimeout. A request
	// that timed out would show as a gap of requestTimeout.
	if worst >= electionTimeout {
		t.Errorf("longest gap between acknowledged writes %v, want under the election timeout (%v): leadership was not handed over", worst, electionTimeout)
	}
	checkAckedPresent(t, survivors, l.acked())
}

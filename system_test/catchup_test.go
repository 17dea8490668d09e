package system_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	catchupRows  = 10000
	catchupBatch = 500
)

// insertBulk inserts foo rows [from, to) in requests of batch statements
// through n, checking that every statement affected one row.
func insertBulk(t *testing.T, n *Node, from, to, batch int) {
	t.Helper()
	for lo := from; lo < to; lo += batch {
		hi := min(lo+batch, to)
		stmts := make([]string, 0, hi-lo)
		for i := lo; i < hi; i++ {
			stmts = append(stmts, fmt.Sprintf(`["INSERT INTO foo(id, name) VALUES(?, ?)", %d, "name-%d"]`, i, i))
		}
		body := n.Execute("/db/execute", "["+strings.Join(stmts, ",")+"]")
		if got := strings.Count(body, `"rows_affected":1}`); got != hi-lo {
			t.Fatalf("bulk insert of rows %d..%d via %s: %d rows affected, want %d: %.300s", lo, hi, n.ID(), got, hi-lo, body)
		}
	}
}

// withoutJoin returns args with any -join flag and its value removed.
func withoutJoin(args []string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-join" {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// catchupCase is one way a stopped follower has to catch up.
type catchupCase struct {
	name string
	// leaderFlags go to every node but the follower that is stopped.
	leaderFlags []string
	// rejoin restarts the follower with its -join flag; otherwise it
	// restarts on its state alone.
	rejoin bool
	// install says the follower must catch up by installing a snapshot.
	install bool
}

// TestCluster_FollowerCatchesUp stops a follower, writes 10,000 rows in
// bulk requests, and restarts it: it catches up from the leader's log, or
// from the leader's snapshot when the leader has compacted its log
// (issue 3, acceptance 4).
func TestCluster_FollowerCatchesUp(t *testing.T) {
	for _, tc := range []catchupCase{
		{name: "from the log", rejoin: true},
		{name: "from a snapshot", leaderFlags: []string{"-raft-snap", "5", "-raft-snap-int", "200ms"}, install: true},
	} {
		t.Run(tc.name, func(t *testing.T) { testCatchup(t, tc) })
	}
}

// snapTrailing is how many entries the leader keeps after a snapshot with
// -raft-snap 5 (the threshold plus a quarter, as rqlite): only a snapshot
// further than that past the stopped follower has compacted away the
// entry it needs next.
const snapTrailing = 5 + 5/4

func testCatchup(t *testing.T, tc catchupCase) {
	nodes := startClusterFlags(t, [][]string{tc.leaderFlags, tc.leaderFlags, nil})
	leader, follower := waitLeader(t, nodes, readyTimeout), nodes[2]
	if leader == follower {
		t.Fatalf("the last node to join, %s, leads; want the first", leader.ID())
	}
	other := others(nodes, leader, follower)[0]
	leader.Execute("/db/execute", fooSchema)
	waitCount(t, follower, "foo", 0, readyTimeout)
	s, err := follower.Status()
	if err != nil {
		t.Fatal(err)
	}

	follower.Stop()
	insertBulk(t, other, 0, catchupRows, catchupBatch)
	if tc.install {
		waitUntil(t, 20*time.Second, "the leader to snapshot past the stopped follower", func() (bool, string) {
			ls, err := leader.Status()
			return err == nil && ls.Raft.LastSnapIdx > s.Raft.AppliedIdx+1+snapTrailing,
				fmt.Sprintf("snapshot index %v, follower stopped at %v, %v", ls.Raft.LastSnapIdx, s.Raft.AppliedIdx, err)
		})
	}
	if !tc.rejoin {
		follower.Args = withoutJoin(follower.Args)
	}
	follower.Start()
	follower.WaitReady(readyTimeout)
	waitCount(t, follower, "foo", catchupRows, time.Minute)
	last := fmt.Sprintf("SELECT name FROM foo WHERE id = %d", catchupRows-1)
	if v, err := queryValues(follower, last, "none"); err != nil || len(v) != 1 || v[0][0] != fmt.Sprintf("name-%d", catchupRows-1) {
		t.Errorf("%s on the caught-up follower: %v %v", last, v, err)
	}
	fs, err := follower.Status()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("follower stopped at index %v, caught up to %v; its latest snapshot is at %v; it restored %d snapshots",
		s.Raft.AppliedIdx, fs.Raft.AppliedIdx, fs.Raft.LastSnapIdx, debugVar(t, follower, "store", "num_restores"))
	// A snapshot past the point where the follower stopped can only have
	// come from the leader.
	if tc.install && fs.Raft.LastSnapIdx <= s.Raft.AppliedIdx+1 {
		t.Errorf("the follower caught up without installing the leader's snapshot (its latest snapshot is at %v): the leader kept the log it snapshotted", fs.Raft.LastSnapIdx)
	}
}

// TestCluster_NonVoter runs three voters and a -raft-non-voter node: the
// non-voter receives all data, is listed only with ?nonvoters, and does
// not become leader when the leader is killed (issue 3, acceptance 4).
func TestCluster_NonVoter(t *testing.T) {
	nodes := startClusterFlags(t, [][]string{fastRaft, fastRaft, fastRaft, append(slices.Clone(fastRaft), "-raft-non-voter")})
	voters, nv := nodes[:3], nodes[3]
	leader := waitLeader(t, nodes, readyTimeout)

	code, h, body, err := nv.DoHeader("POST", "/db/execute", "application/json", fooSchema)
	if err != nil || code != http.StatusOK || body != `{"results":[{}]}` {
		t.Fatalf("write through the non-voter: %d %q %v", code, body, err)
	}
	if got := h.Get("X-Rqlite-Served-By"); got != leader.RaftAddr {
		t.Errorf("write through the non-voter: X-RQLITE-SERVED-BY %q, want the leader's %q", got, leader.RaftAddr)
	}
	insertBulk(t, nv, 0, 1000, catchupBatch)
	waitCount(t, nv, "foo", 1000, readyTimeout)
	checkNonVoter(t, leader, voters, nv)
	code, h, _, err = nv.DoHeader("GET", "/db/query?level=auto&q="+urlEscape("SELECT COUNT(*) FROM foo"), "", "")
	if got := h.Get("X-Rqlite-Served-By"); err != nil || code != http.StatusOK || got != nv.HTTPAddr {
		t.Errorf("level=auto on the non-voter: %d %v, served by %q, want itself (%s): auto is none on non-voters", code, err, got, nv.HTTPAddr)
	}

	leader.Kill()
	survivors := others(nodes, leader)
	var states []string
	waitUntil(t, 20*time.Second, "a new leader after the leader was killed", func() (bool, string) {
		if s, err := nv.Status(); err == nil && (len(states) == 0 || states[len(states)-1] != s.Raft.State) {
			states = append(states, s.Raft.State)
		}
		return agreedLeader(survivors) != nil, fmt.Sprintf("non-voter states %v", states)
	})
	newLeader := agreedLeader(survivors)
	t.Logf("new leader %s; non-voter went through states %v", newLeader.ID(), states)
	if newLeader == nv || slices.ContainsFunc(states, func(s string) bool { return s != "Follower" }) {
		t.Errorf("non-voter states %v, new leader %s: a non-voter must stay a follower", states, newLeader.ID())
	}
	insertBulk(t, nv, 1000, 1500, catchupBatch)
	waitCount(t, nv, "foo", 1500, readyTimeout)
	checkNonVoter(t, newLeader, voters, nv) // the killed node is still a member
}

// checkNonVoter checks that the leader's configuration, /nodes and the
// non-voter's own status all show nv as a non-voter among voters.
func checkNonVoter(t *testing.T, leader *Node, voters []*Node, nv *Node) {
	t.Helper()
	s, err := leader.Status()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Nodes {
		if want := map[bool]string{true: "Nonvoter", false: "Voter"}[m.ID == nv.ID()]; m.Suffrage != want {
			t.Errorf("leader's configuration: %s has suffrage %q, want %q", m.ID, m.Suffrage, want)
		}
	}
	if s, err := nv.Status(); err != nil || s.Raft.Voter || s.Raft.State != "Follower" {
		t.Errorf("non-voter's /status: voter %v, state %q (%v), want false, Follower", s.Raft.Voter, s.Raft.State, err)
	}
	vs, err := nodesV2(leader, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := nodeIDs(vs), ids(voters...); !slices.Equal(got, want) {
		t.Errorf("/nodes?ver=2: %v, want only the voters %v", got, want)
	}
	all, err := nodesV2(leader, "nonvoters")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := nodeIDs(all), ids(append(slices.Clone(voters), nv)...); !slices.Equal(got, want) {
		t.Errorf("/nodes?ver=2&nonvoters: %v, want %v", got, want)
	}
	for _, n := range all {
		if n.ID == nv.ID() && (n.Voter || n.Leader || !n.Reachable) {
			t.Errorf("/nodes?ver=2&nonvoters: non-voter entry %+v, want voter:false leader:false reachable:true", n)
		}
	}
}

func nodeIDs(ns []nodeInfo) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.ID
	}
	return out
}

package system_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// divergeMarker is the text that makes the hooked replica skip an entry.
const divergeMarker = "rdb-diverge-marker"

// divergenceStatus is the "divergence" section of /status.
type divergenceStatus struct {
	Rounds        int `json:"rounds"`
	MismatchCount int `json:"mismatch_count"`
	Mismatches    []struct {
		NodeID string `json:"node_id"`
		Index  uint64 `json:"index"`
	} `json:"mismatches"`
}

func readDivergence(n *Node) (divergenceStatus, error) {
	var d divergenceStatus
	code, body, err := n.Do("GET", "/status?key=divergence", "", "")
	if err != nil || code != http.StatusOK {
		return d, fmt.Errorf("GET /status?key=divergence on %s: %d %v %s", n.ID(), code, err, body)
	}
	return d, json.Unmarshal([]byte(body), &d)
}

// TestFaults_DetectsDivergence proves both divergence checks can fail
// (issue 12, acceptance 2): one replica, with
// RDB_TEST_UNSAFE_SKIP_ENTRY_MATCH, skips the effects of one entry. The
// test's convergence check must name that node and the index where it
// differs, and the product's divergence detection must report it in the
// leader's /status and log at ERROR; GET /db/checksum at the marker
// index shows the two digests apart.
func TestFaults_DetectsDivergence(t *testing.T) {
	const victim = 2
	fc := startFaultCluster(t, testHooksBinary(t), 3, 1, func(i int) []string {
		if i == victim {
			return []string{"RDB_TEST_UNSAFE_SKIP_ENTRY_MATCH=" + divergeMarker}
		}
		return nil
	}, "-divergence-check-int", "1s")
	leader := fc.waitLeader(readyTimeout)
	if leader == victim {
		if code, body, err := fc.nodes[leader].Do("POST", "/leader", "application/json", "{}"); err != nil || code != http.StatusOK {
			t.Fatalf("move leadership off the hooked node: %d %v %s", code, err, body)
		}
		leader = fc.waitLeader(readyTimeout)
	}
	if leader < 0 || leader == victim {
		t.Fatalf("leader %d: want one that is not node %d", leader, victim)
	}
	ln := fc.nodes[leader]
	ln.Execute("/db/execute", `["CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT)"]`)
	for i, s := range []string{"a", divergeMarker, "b"} {
		// The switch matches SQL text, so the value is a literal.
		ln.Execute("/db/execute", fmt.Sprintf(`["INSERT INTO t(id, s) VALUES(%d, '%s')"]`, i, s))
	}

	var res checkResult
	checkConvergence(fc, leader, []table{{"t", "SELECT id, s FROM t ORDER BY id"}}, readyTimeout, &res)
	victimID := fc.nodes[victim].ID()
	if len(res.problems) != 1 || !strings.Contains(res.problems[0], victimID) || !strings.Contains(res.problems[0], "diverged") ||
		!strings.Contains(res.problems[0], "applied index") {
		t.Fatalf("convergence check found %q, want node %d (%s) reported diverged at an applied index", res.problems, victim, victimID)
	}
	t.Logf("convergence check: %s", res.problems[0])

	var ds divergenceStatus
	waitUntil(t, 2*readyTimeout, "the leader's divergence check to report "+victimID, func() (bool, string) {
		var err error
		ds, err = readDivergence(ln)
		return err == nil && len(ds.Mismatches) > 0, fmt.Sprintf("%+v %v", ds, err)
	})
	for _, m := range ds.Mismatches {
		if m.NodeID != victimID || m.Index == 0 {
			t.Errorf("mismatch %+v, want only node %s at a marker index", m, victimID)
		}
	}
	if !strings.Contains(ln.Logs(), "level=ERROR msg=\"replica diverged") || !strings.Contains(ln.Logs(), victimID) {
		t.Errorf("the leader logged no ERROR naming %s", victimID)
	}
	index := ds.Mismatches[0].Index
	sums := map[string]string{}
	for _, i := range []int{leader, victim} {
		code, body, err := fc.nodes[i].Do("GET", fmt.Sprintf("/db/checksum?index=%d", index), "", "")
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /db/checksum?index=%d on node %d: %d %v %s", index, i, code, err, body)
		}
		var c struct{ Checksum string }
		json.Unmarshal([]byte(body), &c)
		sums[fc.nodes[i].ID()] = c.Checksum
	}
	if sums[ln.ID()] == "" || sums[ln.ID()] == sums[victimID] {
		t.Errorf("digests at marker %d: %v, want two different ones", index, sums)
	}
	// The other follower agrees with the leader (it may answer the round
	// after the victim did).
	for i := range fc.nodes {
		if i != leader && i != victim {
			waitUntil(t, readyTimeout, fmt.Sprintf("node %d's digest at marker %d", i, index), func() (bool, string) {
				code, body, err := fc.nodes[i].Do("GET", fmt.Sprintf("/db/checksum?index=%d", index), "", "")
				return err == nil && code == http.StatusOK && strings.Contains(body, sums[ln.ID()]),
					fmt.Sprintf("%d %s %v, want the leader's digest %s", code, body, err, sums[ln.ID()])
			})
		}
	}
}

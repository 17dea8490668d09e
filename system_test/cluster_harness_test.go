package system_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// readyTimeout bounds how long a node may take to become ready, joins and
// elections included.
const readyTimeout = 30 * time.Second

// fastRaft makes elections quick, so fail-over tests stay short.
var fastRaft = []string{"-raft-heartbeat-timeout", "500ms", "-raft-election-timeout", "500ms"}

// newNode prepares a node with its own data directory, without starting
// it, and stops it (printing its logs if the test failed) in t.Cleanup.
func newNode(t *testing.T, extra ...string) *Node {
	t.Helper()
	return rdbtest.NewNode(t, rdbBin, extra...)
}

// startCluster starts size nodes with extra flags: the first bootstraps
// itself, the others join it. It returns once all are ready and the
// first node's configuration lists all of them.
func startCluster(t *testing.T, size int, extra ...string) []*Node {
	t.Helper()
	flags := make([][]string, size)
	for i := range flags {
		flags[i] = extra
	}
	return startClusterFlags(t, flags)
}

// startClusterFlags is startCluster with flags[i] for node i.
func startClusterFlags(t *testing.T, flags [][]string) []*Node {
	t.Helper()
	return rdbtest.StartCluster(t, rdbBin, readyTimeout, flags)
}

// waitMembers waits until n's Raft configuration is exactly want.
func waitMembers(t *testing.T, n *Node, want []string) {
	t.Helper()
	rdbtest.WaitMembers(t, n, want, readyTimeout)
}

// nodeInfo is one entry of /nodes?ver=2.
type nodeInfo struct {
	ID        string `json:"id"`
	APIAddr   string `json:"api_addr"`
	Addr      string `json:"addr"`
	Voter     bool   `json:"voter"`
	Reachable bool   `json:"reachable"`
	Leader    bool   `json:"leader"`
	Error     string `json:"error"`
}

// nodesV2 fetches /nodes?ver=2 plus params.
func nodesV2(n *Node, params string) ([]nodeInfo, error) {
	path := "/nodes?ver=2"
	if params != "" {
		path += "&" + params
	}
	code, body, err := n.Do("GET", path, "", "")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET %s on %s: status %d: %s", path, n.HTTPAddr, code, body)
	}
	var r struct {
		Nodes []nodeInfo `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("decode %s of %s: %w: %s", path, n.HTTPAddr, err, body)
	}
	return r.Nodes, nil
}

// queryValues runs q at level on n and returns the rows of its one result.
// It does not fail the test, so it can be polled.
func queryValues(n *Node, q, level string) ([][]any, error) {
	path := "/db/query?q=" + urlEscape(q) + "&level=" + level
	code, body, err := n.Do("GET", path, "", "")
	if err != nil {
		return nil, err
	}
	if code != http.StatusOK {
		return nil, fmt.Errorf("GET %s on %s: status %d: %s", path, n.HTTPAddr, code, body)
	}
	var r struct {
		Results []struct {
			Values [][]any `json:"values"`
			Error  string  `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("decode %s: %w: %s", body, err, body)
	}
	if r.Error != "" || len(r.Results) != 1 || r.Results[0].Error != "" {
		return nil, fmt.Errorf("GET %s on %s: %s", path, n.HTTPAddr, body)
	}
	return r.Results[0].Values, nil
}

// countAt returns SELECT COUNT(*) FROM table at level on n.
func countAt(n *Node, table, level string) (int, error) {
	v, err := queryValues(n, "SELECT COUNT(*) FROM "+table, level)
	if err != nil {
		return 0, err
	}
	if len(v) != 1 || len(v[0]) != 1 {
		return 0, fmt.Errorf("count of %s on %s: unexpected values %v", table, n.HTTPAddr, v)
	}
	f, ok := v[0][0].(float64)
	if !ok {
		return 0, fmt.Errorf("count of %s on %s: not a number: %v", table, n.HTTPAddr, v[0][0])
	}
	return int(f), nil
}

// waitCount waits until COUNT(*) of table at level=none on n is want.
func waitCount(t *testing.T, n *Node, table string, want int, d time.Duration) {
	t.Helper()
	waitUntil(t, d, fmt.Sprintf("%d rows in %s on %s", want, table, n.ID()), func() (bool, string) {
		got, err := countAt(n, table, "none")
		return err == nil && got == want, fmt.Sprintf("%d rows, %v", got, err)
	})
}

// debugVar reads one integer counter from /debug/vars (e.g. "store",
// "num_restores").
func debugVar(t *testing.T, n *Node, mapName, key string) int {
	t.Helper()
	code, body, err := n.Do("GET", "/debug/vars?key="+mapName, "", "")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /debug/vars?key=%s on %s: %d %v %s", mapName, n.HTTPAddr, code, err, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("decode /debug/vars?key=%s: %v: %s", mapName, err, body)
	}
	if inner, ok := m[mapName].(map[string]any); ok {
		m = inner
	}
	// A counter that was never touched may be missing (expvar maps are
	// published lazily); it counts as zero.
	v, ok := m[key].(float64)
	if _, present := m[key]; present && !ok {
		t.Fatalf("/debug/vars?key=%s on %s: %q is not a number: %s", mapName, n.HTTPAddr, key, body)
	}
	return int(v)
}

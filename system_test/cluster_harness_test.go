package system_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// readyTimeout bounds how long a node may take to become ready, joins and
// elections included.
const readyTimeout = 30 * time.Second

// fastRaft makes elections quick, so fail-over tests stay short.
var fastRaft = []string{"-raft-heartbeat-timeout", "500ms", "-raft-election-timeout", "500ms"}

// newNode allocates a data directory and ports for a node without starting
// it, and stops it (printing its logs if the test failed) in t.Cleanup.
func newNode(t *testing.T, extra ...string) *Node {
	t.Helper()
	n := &Node{t: t, Dir: filepath.Join(t.TempDir(), "data"), HTTPAddr: uniqueAddr(t), RaftAddr: uniqueAddr(t),
		Args: slices.Clone(extra)}
	t.Cleanup(func() {
		n.Stop()
		if t.Failed() {
			t.Logf("logs of node %s (%s):\n%s", n.ID(), n.HTTPAddr, n.Logs())
		}
	})
	return n
}

// handedOut holds every address uniqueAddr returned in this process.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// uniqueAddr is freeAddr that never returns the same address twice: the
// kernel may hand out a port it just released, which gave two nodes of
// one cluster the same address.
func uniqueAddr(t *testing.T) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		if a := freeAddr(t); !handedOut.addrs[a] {
			handedOut.addrs[a] = true
			return a
		}
	}
	t.Fatal("no unused loopback port in 100 tries")
	return ""
}

// ID is the node ID the harness gives the node (see Node.Start).
func (n *Node) ID() string {
	if n.FixedID != "" {
		return n.FixedID
	}
	return "node-" + n.RaftAddr
}

// Kill sends SIGKILL and waits for the process to die.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// running reports whether the node's process is up.
func (n *Node) running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil && !n.exited()
}

// stopAll stops nodes concurrently, so that no node waits on peers that
// are already gone (a leader handing over to a stopped follower).
func stopAll(nodes []*Node) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.Stop() }()
	}
	wg.Wait()
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
	nodes := make([]*Node, len(flags))
	for i := range nodes {
		nodes[i] = newNode(t, flags[i]...)
	}
	t.Cleanup(func() { stopAll(nodes) })
	nodes[0].Start()
	nodes[0].WaitReady(readyTimeout)
	for _, n := range nodes[1:] {
		n.Args = append(n.Args, "-join", nodes[0].RaftAddr)
		n.Start()
	}
	for _, n := range nodes[1:] {
		n.WaitReady(readyTimeout)
	}
	waitMembers(t, nodes[0], ids(nodes...))
	return nodes
}

func ids(nodes ...*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID()
	}
	slices.Sort(out)
	return out
}

// storeStatus is the part of /status?key=store the tests read.
type storeStatus struct {
	NodeID string `json:"node_id"`
	Ready  bool   `json:"ready"`
	Leader struct {
		NodeID string `json:"node_id"`
		Addr   string `json:"addr"`
	} `json:"leader"`
	Nodes []struct {
		ID       string `json:"id"`
		Addr     string `json:"addr"`
		Suffrage string `json:"suffrage"`
	} `json:"nodes"`
	Raft struct {
		State       string  `json:"state"`
		Voter       bool    `json:"voter"`
		AppliedIdx  float64 `json:"applied_index"`
		CommitIdx   float64 `json:"commit_index"`
		LastSnapIdx float64 `json:"last_snapshot_index"`
	} `json:"raft"`
}

// status fetches /status?key=store.
func (n *Node) status() (storeStatus, error) {
	var s storeStatus
	code, body, err := n.Do("GET", "/status?key=store", "", "")
	if err != nil {
		return s, err
	}
	if code != http.StatusOK {
		return s, fmt.Errorf("GET /status on %s: status %d: %s", n.HTTPAddr, code, body)
	}
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		return s, fmt.Errorf("decode /status of %s: %w: %s", n.HTTPAddr, err, body)
	}
	return s, nil
}

// members is the sorted list of IDs in the node's Raft configuration.
func (s storeStatus) members() []string {
	out := make([]string, 0, len(s.Nodes))
	for _, m := range s.Nodes {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	return out
}

// waitMembers waits until n's Raft configuration is exactly want.
func waitMembers(t *testing.T, n *Node, want []string) {
	t.Helper()
	waitUntil(t, readyTimeout, fmt.Sprintf("configuration of %s to be %v", n.ID(), want), func() (bool, string) {
		s, err := n.status()
		return err == nil && slices.Equal(s.members(), want), fmt.Sprintf("%v, %v", s.members(), err)
	})
}

// agreedLeader returns the node among nodes that every one of them reports
// as leader, or nil if they do not all agree on one of them yet.
func agreedLeader(nodes []*Node) *Node {
	var leader string
	for i, n := range nodes {
		s, err := n.status()
		if err != nil || s.Leader.NodeID == "" || (i > 0 && s.Leader.NodeID != leader) {
			return nil
		}
		leader = s.Leader.NodeID
	}
	for _, n := range nodes {
		if n.ID() == leader {
			return n
		}
	}
	return nil
}

// waitLeader waits until all nodes agree that one of them is the leader
// and returns it.
func waitLeader(t *testing.T, nodes []*Node, d time.Duration) *Node {
	t.Helper()
	var leader *Node
	waitFor(t, d, "nodes "+strings.Join(ids(nodes...), ",")+" to agree on a leader among them", func() bool {
		leader = agreedLeader(nodes)
		return leader != nil
	})
	return leader
}

// waitUntil polls cond every 20 ms until it reports true or d passes; the
// failure message includes cond's description of what it last saw.
func waitUntil(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s; last seen: %s", d, what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// others returns nodes without skip.
func others(nodes []*Node, skip ...*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if !slices.Contains(skip, n) {
			out = append(out, n)
		}
	}
	return out
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
func (n *Node) nodesV2(params string) ([]nodeInfo, error) {
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

package rdbtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// StartCluster starts len(flags) nodes of bin, node i with flags[i]: the
// first bootstraps itself, the others join it. It returns once all are
// ready and the first node's configuration lists all of them; t.Cleanup
// stops them all at once.
func StartCluster(t testing.TB, bin string, d time.Duration, flags [][]string) []*Node {
	t.Helper()
	nodes := make([]*Node, len(flags))
	for i := range nodes {
		nodes[i] = NewNode(t, bin, flags[i]...)
	}
	t.Cleanup(func() { StopAll(nodes) })
	nodes[0].Start()
	nodes[0].WaitReady(d)
	for _, n := range nodes[1:] {
		n.Args = append(n.Args, "-join", nodes[0].RaftAddr)
		n.Start()
	}
	for _, n := range nodes[1:] {
		n.WaitReady(d)
	}
	WaitMembers(t, nodes[0], IDs(nodes...), d)
	return nodes
}

// StopAll stops nodes concurrently, so that no node waits on peers that
// are already gone (a leader handing over to a stopped follower).
func StopAll(nodes []*Node) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); n.Stop() }()
	}
	wg.Wait()
}

// IDs is the sorted list of the nodes' IDs.
func IDs(nodes ...*Node) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID()
	}
	slices.Sort(out)
	return out
}

// Others returns nodes without skip.
func Others(nodes []*Node, skip ...*Node) []*Node {
	var out []*Node
	for _, n := range nodes {
		if !slices.Contains(skip, n) {
			out = append(out, n)
		}
	}
	return out
}

// StoreStatus is the part of /status?key=store the tests read.
type StoreStatus struct {
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

// Status fetches /status?key=store.
func (n *Node) Status() (StoreStatus, error) {
	var s StoreStatus
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

// Members is the sorted list of IDs in the node's Raft configuration.
func (s StoreStatus) Members() []string {
	out := make([]string, 0, len(s.Nodes))
	for _, m := range s.Nodes {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	return out
}

// WaitMembers waits up to d until n's Raft configuration is exactly want.
func WaitMembers(t testing.TB, n *Node, want []string, d time.Duration) {
	t.Helper()
	WaitUntil(t, d, fmt.Sprintf("configuration of %s to be %v", n.ID(), want), func() (bool, string) {
		s, err := n.Status()
		return err == nil && slices.Equal(s.Members(), want), fmt.Sprintf("%v, %v", s.Members(), err)
	})
}

// AgreedLeader returns the node among nodes that every one of them reports
// as leader, or nil if they do not all agree on one of them yet.
func AgreedLeader(nodes []*Node) *Node {
	var leader string
	for i, n := range nodes {
		s, err := n.Status()
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

// WaitLeader waits until all nodes agree that one of them is the leader
// and returns it.
func WaitLeader(t testing.TB, nodes []*Node, d time.Duration) *Node {
	t.Helper()
	var leader *Node
	WaitFor(t, d, "nodes "+strings.Join(IDs(nodes...), ",")+" to agree on a leader among them", func() bool {
		leader = AgreedLeader(nodes)
		return leader != nil
	})
	return leader
}

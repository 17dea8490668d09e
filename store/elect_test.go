package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// restartable is a 3-node cluster on disk whose nodes can be closed and
// reopened on the same addresses and directories, with a dialPeer that
// sees a peer as reachable while its store is open.
type restartable struct {
	t     *testing.T
	dirs  []string
	addrs []raft.ServerAddress
	nodes []*testNode
	mu    sync.Mutex
	up    map[string]bool // raft address -> store open
}

func newRestartable(t *testing.T, n int) *restartable {
	r := &restartable{t: t, up: map[string]bool{}}
	for range n {
		r.dirs = append(r.dirs, t.TempDir())
		r.addrs = append(r.addrs, raft.NewInmemAddr())
	}
	r.nodes = make([]*testNode, n)
	return r
}

func (r *restartable) dial(_ context.Context, addr string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.up[addr] {
		return errors.New("connection refused")
	}
	return nil
}

// open starts node i with heartbeat and election timeouts hb, connected
// to every other open node.
func (r *restartable) open(i int, hb time.Duration) *testNode {
	r.t.Helper()
	c := testConfig(r.t, fmt.Sprintf("node%d", i))
	c.Dir = r.dirs[i]
	c.inmemRaft = false
	c.HeartbeatTimeout, c.ElectionTimeout = hb, hb
	c.LeaderLeaseTimeout = min(hb, 500*time.Millisecond)
	c.dialPeer = r.dial
	_, tn := raft.NewInmemTransport(r.addrs[i])
	n := &testNode{tn: tn}
	for j, other := range r.nodes {
		if j != i && other != nil && other.IsOpen() {
			tn.Connect(other.tn.LocalAddr(), other.tn)
			other.tn.Connect(tn.LocalAddr(), tn)
		}
	}
	n.Store = openStore(r.t, c, tn)
	r.nodes[i] = n
	r.mu.Lock()
	r.up[string(r.addrs[i])] = true
	r.mu.Unlock()
	return n
}

func (r *restartable) close(i int) {
	r.t.Helper()
	r.mu.Lock()
	r.up[string(r.addrs[i])] = false
	r.mu.Unlock()
	n := r.nodes[i]
	for j, other := range r.nodes {
		if j != i && other != nil {
			other.tn.Disconnect(n.tn.LocalAddr())
		}
	}
	if err := n.Close(context.Background()); err != nil {
		r.t.Fatalf("close node%d: %v", i, err)
	}
}

// form opens every node with heartbeat timeout hb, bootstraps them as
// voters and writes one row through the leader.
func (r *restartable) form(hb time.Duration) *testNode {
	r.t.Helper()
	servers := make([]Server, len(r.nodes))
	for i := range r.nodes {
		servers[i] = Server{ID: fmt.Sprintf("node%d", i), Addr: string(r.addrs[i]), Voter: true}
	}
	for i := range r.nodes {
		n := r.open(i, hb)
		if err := n.Bootstrap(servers...); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			r.t.Fatalf("Bootstrap node%d: %v", i, err)
		}
	}
	leader := waitLeader(r.t, r.nodes)
	mustExecute(r.t, leader.Store, "CREATE TABLE t (x)")
	waitAllApplied(r.t, r.nodes, leader.AppliedIndex())
	return leader
}

// A whole cluster restarted with a heartbeat timeout far longer than the
// test's wait still elects a leader at once: the early election does not
// wait for the timeout when nobody leads and a quorum is up.
func TestStore_RestartedClusterElectsEarly(t *testing.T) {
	r := newRestartable(t, 3)
	r.form(50 * time.Millisecond)
	for i := range r.nodes {
		r.close(i)
	}
	const long = 10 * time.Minute // raft's own timer would campaign after this
	for i := range r.nodes {
		r.open(i, long)
	}
	leader := waitLeader(t, r.nodes)
	mustExecute(t, leader.Store, "INSERT INTO t VALUES (1)")
	waitAllApplied(t, r.nodes, leader.AppliedIndex())
}

// A node restarted alone while the others keep a leader does not depose
// it: its early campaign fails the pre-vote, and the term stays. The
// cluster runs with 2 s timeouts so that a loaded machine does not cause
// elections of its own (the bootstrap elects early anyway).
func TestStore_RestartedFollowerDoesNotDisturbLeader(t *testing.T) {
	r := newRestartable(t, 3)
	leader := r.form(2 * time.Second)
	term := leader.raft.CurrentTerm()
	var f int
	for i, n := range r.nodes {
		if n != leader {
			f = i
			break
		}
	}
	r.close(f)
	mustExecute(t, leader.Store, "INSERT INTO t VALUES (1)")
	n := r.open(f, 10*time.Minute)
	waitFor(t, waitTimeout, "the restarted follower to catch up", func() bool {
		return n.AppliedIndex() >= leader.AppliedIndex()
	})
	if !leader.IsLeader() {
		t.Fatal("the leader lost leadership when a follower restarted")
	}
	if got := leader.raft.CurrentTerm(); got != term {
		t.Fatalf("term went from %d to %d when a follower restarted", term, got)
	}
}

// A non-voter never campaigns, early or not; votersAndRank says so.
func TestVotersAndRank(t *testing.T) {
	cfg := raft.Configuration{Servers: []raft.Server{
		{ID: "c", Suffrage: raft.Voter},
		{ID: "a", Suffrage: raft.Voter},
		{ID: "n", Suffrage: raft.Nonvoter},
		{ID: "b", Suffrage: raft.Voter},
	}}
	for id, want := range map[raft.ServerID]int{"a": 0, "b": 1, "c": 2, "n": -1, "x": -1} {
		voters, rank := votersAndRank(cfg, id)
		if len(voters) != 3 || rank != want {
			t.Errorf("votersAndRank(%s) = %d voters, rank %d; want 3, %d", id, len(voters), rank, want)
		}
	}
}

// New clusters elect at once too: a lone bootstrapped node, and three
// bootstrapped together (the stagger keeps them from splitting the vote),
// with a heartbeat timeout far beyond the test's wait.
func TestStore_BootstrapElectsEarly(t *testing.T) {
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d nodes", n), func(t *testing.T) {
			nodes := newTestCluster(t, n, true, func(c *Config) {
				c.HeartbeatTimeout, c.ElectionTimeout = 10*time.Minute, 10*time.Minute
				c.dialPeer = func(context.Context, string) error { return nil }
			})
			leader := waitLeader(t, nodes)
			if _, err := leader.Execute(context.Background(), stmts("INSERT x")); err != nil {
				t.Fatal(err)
			}
		})
	}
}

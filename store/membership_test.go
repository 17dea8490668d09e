package store

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// addNode starts an unbootstrapped node connected to nodes.
func addNode(t *testing.T, nodes []*testNode, id string, nonVoter bool) *testNode {
	t.Helper()
	_, tn := raft.NewInmemTransport("")
	n := &testNode{tn: tn}
	for _, o := range nodes {
		n.tn.Connect(o.tn.LocalAddr(), o.tn)
		o.tn.Connect(n.tn.LocalAddr(), n.tn)
	}
	c := testConfig(t, id)
	c.NonVoter = nonVoter
	n.useFake(&c)
	n.Store = openStore(t, c, tn)
	return n
}

func TestStore_Join(t *testing.T) {
	nodes := newTestCluster(t, 1, true, nil)
	leader := nodes[0]
	ctx := context.Background()
	voter := addNode(t, nodes, "voter", false)
	reader := addNode(t, nodes, "reader", true)
	if err := leader.Join("voter", voter.cfg.RaftAddr, true); err != nil {
		t.Fatalf("Join voter: %v", err)
	}
	if err := leader.Join("reader", reader.cfg.RaftAddr, false); err != nil {
		t.Fatalf("Join non-voter: %v", err)
	}
	resp, err := leader.Execute(ctx, stmts("INSERT 1"))
	if err != nil {
		t.Fatal(err)
	}
	all := []*testNode{leader, voter, reader}
	waitAllApplied(t, all, resp.RaftIndex)

	servers, err := leader.Servers()
	if err != nil {
		t.Fatal(err)
	}
	want := []Server{
		{ID: "node0", Addr: leader.cfg.RaftAddr, Voter: true},
		{ID: "reader", Addr: reader.cfg.RaftAddr, Voter: false},
		{ID: "voter", Addr: voter.cfg.RaftAddr, Voter: true},
	}
	if fmt.Sprint(servers) != fmt.Sprint(want) {
		t.Fatalf("Servers() = %+v, want %+v", servers, want)
	}

	// auto is none on the non-voter: served locally.
	req := stmts("SELECT n")
	req.Level = LevelAuto
	if _, err := reader.Query(ctx, req); err != nil {
		t.Fatalf("auto read on non-voter: %v", err)
	}
	if _, err := voter.Query(ctx, req); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("auto read on voter follower = %v, want ErrNotLeader", err)
	}
	if err := voter.Join("x", "y", true); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Join on a follower = %v, want ErrNotLeader", err)
	}
}

func TestStore_Join_ExistingMember(t *testing.T) {
	nodes := newTestCluster(t, 1, true, nil)
	leader := nodes[0]
	tests := []struct {
		name        string
		id, addr    string
		wantIgnored int64
		wantRemoved int64
		wantAddr    string
	}{
		{"new member", "r1", "addr-a", 0, 0, "addr-a"},
		{"same id and address", "r1", "addr-a", 1, 0, "addr-a"},
		{"same id, new address", "r1", "addr-b", 0, 1, "addr-b"},
		{"new id, same address", "r2", "addr-b", 0, 1, "addr-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ignored, removed := counter(t, numIgnoredJoins), counter(t, numRemovedBeforeJoins)
			// Non-voters that do not exist: they cannot break the quorum.
			if err := leader.Join(tt.id, tt.addr, false); err != nil {
				t.Fatalf("Join: %v", err)
			}
			if got := counter(t, numIgnoredJoins) - ignored; got != tt.wantIgnored {
				t.Errorf("ignored joins grew by %d, want %d", got, tt.wantIgnored)
			}
			if got := counter(t, numRemovedBeforeJoins) - removed; got != tt.wantRemoved {
				t.Errorf("removed-before-join grew by %d, want %d", got, tt.wantRemoved)
			}
			srv, err := leader.server(tt.id)
			if err != nil || srv.Addr != tt.wantAddr {
				t.Fatalf("member %s = %+v, %v; want address %s", tt.id, srv, err, tt.wantAddr)
			}
			if servers, _ := leader.Servers(); len(servers) != 2 {
				t.Fatalf("Servers() = %+v, want the leader and one non-voter", servers)
			}
		})
	}
}

func TestStore_Remove(t *testing.T) {
	nodes := newTestCluster(t, 3, true, steady)
	leader := waitLeader(t, nodes)
	gone := followers(nodes, leader)[0]
	if err := leader.Remove(gone.cfg.NodeID); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := leader.server(gone.cfg.NodeID); !errors.Is(err, ErrNodeNotFound) {
		t.Fatalf("removed node still a member: %v", err)
	}
	if err := leader.Remove("nope"); !errors.Is(err, ErrNodeNotFound) {
		t.Fatalf("Remove of unknown node = %v, want ErrNodeNotFound", err)
	}
	if _, err := leader.Execute(context.Background(), stmts("INSERT 1")); err != nil {
		t.Fatalf("Execute with two voters left: %v", err)
	}
}

func TestStore_Stepdown(t *testing.T) {
	nodes := newTestCluster(t, 3, true, steady)
	old := waitLeader(t, nodes)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := old.Stepdown(ctx, old.cfg.NodeID, false); !errors.Is(err, ErrStepdownSelf) {
		t.Fatalf("Stepdown to self = %v, want ErrStepdownSelf", err)
	}
	if err := old.Stepdown(ctx, "nope", false); !errors.Is(err, ErrNodeNotFound) {
		t.Fatalf("Stepdown to unknown = %v, want ErrNodeNotFound", err)
	}
	target := followers(nodes, old)[1]
	if err := old.Stepdown(ctx, target.cfg.NodeID, true); err != nil {
		t.Fatalf("Stepdown: %v", err)
	}
	if got := old.LeaderID(); got == old.cfg.NodeID || got == "" {
		t.Fatalf("leader after Stepdown with wait = %q, want another node", got)
	}
	waitFor(t, 5*time.Second, "the target to lead", target.IsLeader)
	if err := old.Stepdown(ctx, "", false); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("Stepdown on a follower = %v, want ErrNotLeader", err)
	}
}

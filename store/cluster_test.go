package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

func TestCluster_Replication(t *testing.T) {
	nodes := newTestCluster(t, 3, true, steady)
	leader := waitLeader(t, nodes)
	ctx := context.Background()
	var last uint64
	for i := range 5 {
		resp, err := leader.Execute(ctx, stmts(fmt.Sprintf("INSERT %d", i)))
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		last = resp.RaftIndex
	}
	waitAllApplied(t, nodes, last)
	want := leader.fake.snapshotRows()
	if len(want) != 5 {
		t.Fatalf("leader has %d rows, want 5", len(want))
	}
	for _, n := range followers(nodes, leader) {
		if got := n.fake.snapshotRows(); !slices.Equal(got, want) {
			t.Errorf("%s rows = %v, want %v", n.cfg.NodeID, got, want)
		}
		if got, want := n.LeaderAddr(), leader.cfg.RaftAddr; got != want {
			t.Errorf("%s LeaderAddr() = %q, want %q", n.cfg.NodeID, got, want)
		}
		if err := n.WaitForSync(ctx); err != nil {
			t.Errorf("%s WaitForSync: %v", n.cfg.NodeID, err)
		}
	}
	servers, err := leader.Servers()
	if err != nil || len(servers) != 3 {
		t.Fatalf("Servers() = %v, %v; want 3", servers, err)
	}
}

func TestCluster_Follower_Levels(t *testing.T) {
	nodes := newTestCluster(t, 3, true, steady)
	leader := waitLeader(t, nodes)
	ctx := context.Background()
	resp, err := leader.Execute(ctx, stmts("INSERT 1"))
	if err != nil {
		t.Fatal(err)
	}
	waitAllApplied(t, nodes, resp.RaftIndex)
	f := followers(nodes, leader)[0]
	tests := []struct {
		name    string
		call    func(context.Context, *Request) (Response, error)
		sql     string
		level   Level
		wantErr error
	}{
		{"execute", f.Execute, "INSERT 2", LevelWeak, ErrNotLeader},
		{"request write", f.Request, "INSERT 2", LevelNone, ErrNotLeader},
		{"query weak", f.Query, "SELECT n", LevelWeak, ErrNotLeader},
		{"query linearizable", f.Query, "SELECT n", LevelLinearizable, ErrNotLeader},
		{"query strong", f.Query, "SELECT n", LevelStrong, ErrNotLeader},
		{"query none", f.Query, "SELECT n", LevelNone, nil},
		{"query auto on voter", f.Query, "SELECT n", LevelAuto, ErrNotLeader},
		{"request read none", f.Request, "SELECT n", LevelNone, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := stmts(tt.sql)
			req.Level = tt.level
			resp, err := tt.call(ctx, req)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("error = %v, want %v", err, tt.wantErr)
			}
			if err == nil && resp.Results[0].Values[0][0] != int64(1) {
				t.Fatalf("local read = %v, want count 1", resp.Results[0].Values)
			}
		})
	}
	if got := len(leader.fake.snapshotRows()); got != 1 {
		t.Fatalf("leader has %d rows after refused writes, want 1", got)
	}
}

// TestCluster_PartitionedLeader_RefusesReads checks that a leader cut off
// from the majority cannot serve linearizable or strong reads once the
// majority has a new leader and has committed a write it does not have.
// node0 gets a longer lease than the others' election timeouts, so it still
// believes it leads when it is asked: the read index must catch it.
func TestCluster_PartitionedLeader_RefusesReads(t *testing.T) {
	nodes := newTestCluster(t, 3, true, func(c *Config) {
		d := 100 * time.Millisecond
		if c.NodeID == "node0" {
			d = 400 * time.Millisecond // heartbeats every 40 ms, below the others' timeout
		}
		c.HeartbeatTimeout, c.ElectionTimeout, c.LeaderLeaseTimeout = d, d, d
	})
	ctx := context.Background()
	old := nodes[0]
	if leader := waitLeader(t, nodes); leader != old {
		if err := leader.Stepdown(ctx, old.cfg.NodeID, true); err != nil {
			t.Fatalf("Stepdown to node0: %v", err)
		}
		waitFor(t, waitTimeout, "node0 to lead", old.IsLeader)
	}
	// An entry of this term, so linearizable reads use the read index.
	strong := stmts("SELECT n")
	strong.Level = LevelStrong
	if _, err := old.Query(ctx, strong); err != nil {
		t.Fatal(err)
	}

	partition(nodes, old)
	rest := followers(nodes, old)
	leader := waitLeader(t, rest)
	if _, err := leader.Execute(ctx, stmts("INSERT after")); err != nil {
		t.Fatalf("Execute on new leader: %v", err)
	}
	if !old.IsLeader() {
		t.Log("node0 stepped down before the reads: the read index was not exercised")
	}
	for _, level := range []Level{LevelLinearizable, LevelStrong} {
		t.Run(level.String(), func(t *testing.T) {
			req := stmts("SELECT n")
			req.Level = level
			resp, err := old.Query(ctx, req)
			if !errors.Is(err, ErrNotLeader) {
				t.Fatalf("read on partitioned old leader = %+v, %v; want ErrNotLeader", resp.Results, err)
			}
		})
	}

	// level=none is a local read by definition: the cut-off node answers
	// with what it has, which misses the new leader's write (documented
	// staleness, API.md §2).
	none := stmts("SELECT n")
	none.Level = LevelNone
	if got, err := old.Query(ctx, none); err != nil || got.Results[0].Values[0][0] != int64(0) {
		t.Fatalf("none on the old leader = %+v, %v; want its own stale count 0", got.Results, err)
	}
	// level=weak trusts the node's own belief: while it still thinks it
	// leads it may answer stale data (the documented window), once it has
	// stepped down it refuses. Either way it never sees the new write.
	weak := stmts("SELECT n")
	weak.Level = LevelWeak
	if got, err := old.Query(ctx, weak); err == nil && got.Results[0].Values[0][0] != int64(0) {
		t.Fatalf("weak on the old leader = %+v; a cut-off node cannot have the new write", got.Results)
	} else if err != nil && !errors.Is(err, ErrNotLeader) {
		t.Fatalf("weak on the old leader: %v, want success or ErrNotLeader", err)
	}
	waitFor(t, waitTimeout, "the old leader to step down", func() bool { return !old.IsLeader() })
	if _, err := old.Query(ctx, weak); !errors.Is(err, ErrNotLeader) {
		t.Fatalf("weak after stepping down: %v, want ErrNotLeader", err)
	}

	lin := stmts("SELECT n")
	lin.Level = LevelLinearizable
	got, err := leader.Query(ctx, lin)
	if err != nil {
		t.Fatalf("linearizable read on new leader: %v", err)
	}
	if got.Results[0].Values[0][0] != int64(1) {
		t.Fatalf("new leader count = %v, want 1", got.Results[0].Values)
	}
	heal(nodes, old)
	waitFor(t, waitTimeout, "the old leader to catch up", func() bool {
		return slices.Equal(old.fake.snapshotRows(), []string{"INSERT after"})
	})
}

func TestCluster_Freshness(t *testing.T) {
	nodes := newTestCluster(t, 3, true, steady)
	leader := waitLeader(t, nodes)
	ctx := context.Background()
	if _, err := leader.Execute(ctx, stmts("INSERT 1")); err != nil {
		t.Fatal(err)
	}
	f := followers(nodes, leader)[0]
	req := stmts("SELECT n")
	req.Level = LevelNone
	req.Freshness = time.Hour
	if _, err := f.Query(ctx, req); err != nil {
		t.Fatalf("fresh follower read: %v", err)
	}
	partition(nodes, f)
	req.Freshness = 100 * time.Millisecond
	waitFor(t, waitTimeout, "the follower's read to turn stale", func() bool {
		_, err := f.Query(ctx, req)
		return errors.Is(err, ErrStaleRead)
	})
	req.Freshness = 0
	if _, err := f.Query(ctx, req); err != nil {
		t.Fatalf("read without freshness on partitioned follower: %v", err)
	}
}

func TestCluster_SnapshotInstall(t *testing.T) {
	nodes := newTestCluster(t, 3, true, func(c *Config) {
		c.SnapshotThreshold = 4
		c.TrailingLogs = 2
	})
	leader := waitLeader(t, nodes)
	lagging := followers(nodes, leader)[0]
	partition(nodes, lagging)
	ctx := context.Background()
	var last uint64
	for i := range 20 {
		resp, err := leader.Execute(ctx, stmts(fmt.Sprintf("INSERT %d", i)))
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		last = resp.RaftIndex
	}
	if err := leader.Snapshot(0); err != nil && !errors.Is(err, ErrNothingNewToSnapshot) {
		t.Fatalf("Snapshot: %v", err)
	}
	before := counter(t, numRestores)
	heal(nodes, lagging)
	waitAllApplied(t, nodes, last)
	if got := counter(t, numRestores) - before; got < 1 {
		t.Fatalf("num_restores grew by %d, want at least 1 (snapshot install)", got)
	}
	if got, want := lagging.fake.snapshotRows(), leader.fake.snapshotRows(); !slices.Equal(got, want) {
		t.Fatalf("lagging follower rows = %v, want %v", got, want)
	}
}

func TestCluster_CloseTransfersLeadership(t *testing.T) {
	nodes := newTestCluster(t, 3, true, steady)
	old := waitLeader(t, nodes)
	if err := old.Close(context.Background()); err != nil {
		t.Fatalf("Close leader: %v", err)
	}
	leader := waitLeader(t, followers(nodes, old))
	if _, err := leader.Execute(context.Background(), stmts("INSERT 1")); err != nil {
		t.Fatalf("Execute on new leader: %v", err)
	}
}

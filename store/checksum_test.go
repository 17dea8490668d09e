package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// TestStore_ChecksumMarker: every node digests its database at the
// marker the leader logs, while writes go on; equal databases give equal
// digests at the same index, and a follower that never saw the marker
// says so instead of blocking.
func TestStore_ChecksumMarker(t *testing.T) {
	nodes := newTestCluster(t, 3, false, steady)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// With 50 ms timeouts a loaded machine may change leaders between
	// calls: each step is retried on the new leader, a bounded number of
	// times.
	var leader *testNode
	onLeader := func(what string, fn func(n *testNode) error) {
		t.Helper()
		var err error
		for range 20 {
			leader = waitLeader(t, nodes)
			if err = fn(leader); !errors.Is(err, ErrNotLeader) && !errors.Is(err, ErrLeadershipLost) {
				break
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	onLeader("create", func(n *testNode) error {
		_, err := n.Execute(ctx, stmts("CREATE TABLE IF NOT EXISTS t (v)", "DELETE FROM t", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"))
		return err
	})
	var mine db.Checksum
	onLeader("MarkChecksum", func(n *testNode) (err error) {
		mine, err = n.MarkChecksum(ctx)
		return err
	})
	if mine.Rows != 2 || mine.Sum == "" {
		t.Fatalf("leader digest %+v, want 2 rows and a sum", mine)
	}
	// Writes after the marker must not change the digests at it.
	onLeader("insert", func(n *testNode) error {
		_, err := n.Execute(ctx, stmts("INSERT INTO t VALUES (3)"))
		return err
	})
	for _, f := range followers(nodes, leader) {
		got, err := f.ChecksumAt(ctx, mine.Index)
		if err != nil {
			t.Fatalf("%s ChecksumAt(%d): %v", f.cfg.NodeID, mine.Index, err)
		}
		if got.Sum != mine.Sum || got.Index != mine.Index {
			t.Errorf("%s digest %s at %d, leader %s at %d", f.cfg.NodeID, got.Sum, got.Index, mine.Sum, mine.Index)
		}
	}
	if _, err := nodes[0].ChecksumAt(ctx, mine.Index-1); !errors.Is(err, ErrChecksumUnavailable) {
		t.Errorf("ChecksumAt an index without a marker: %v, want ErrChecksumUnavailable", err)
	}
	now, err := leader.Checksum(ctx)
	if err != nil || now.Rows != 3 || now.Sum == mine.Sum {
		t.Errorf("Checksum now: %+v %v, want 3 rows and a new sum", now, err)
	}
}

// TestStore_Checksum_BeforeOpen: a peer's checksum call can reach a node
// that is still opening after a restart; it must get ErrNotOpen, not
// crash the handler (the fault suite's long run found a nil dereference
// there).
func TestStore_Checksum_BeforeOpen(t *testing.T) {
	_, tn := raft.NewInmemTransport("")
	s, err := New(testConfig(t, "n1"), tn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.ChecksumAt(ctx, 5); !errors.Is(err, ErrNotOpen) {
		t.Errorf("ChecksumAt before Open: %v, want ErrNotOpen", err)
	}
	if _, err := s.MarkChecksum(ctx); !errors.Is(err, ErrNotOpen) {
		t.Errorf("MarkChecksum before Open: %v, want ErrNotOpen", err)
	}
	if _, err := s.Checksum(ctx); !errors.Is(err, ErrNotOpen) {
		t.Errorf("Checksum before Open: %v, want ErrNotOpen", err)
	}
}

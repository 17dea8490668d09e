package store

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// TestStore_IncrementalSnapshots: after a full snapshot, later snapshots
// hold only the changes (their size follows the new rows, not the
// database), and a database rebuilt from the chain (base plus WALs, some
// folded into the base) equals the live one.
func TestStore_IncrementalSnapshots(t *testing.T) {
	dir, addr := t.TempDir(), raft.NewInmemAddr()
	n := startNode(t, fileConfig(t, dir, nil), addr, false)
	mustExecute(t, n.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, data TEXT)")
	insert := func(rows int) {
		t.Helper()
		for range rows {
			mustExecute(t, n.Store, "INSERT INTO foo(data) VALUES(hex(randomblob(2000)))")
		}
	}
	newest := func() *raft.SnapshotMeta {
		t.Helper()
		metas, err := n.snaps.List()
		if err != nil || len(metas) == 0 {
			t.Fatalf("List: %v", err)
		}
		return metas[0]
	}
	insert(200)
	if err := n.Snapshot(0); err != nil {
		t.Fatalf("first snapshot: %v", err)
	}
	full := newest().Size
	for i := range 4 {
		insert(2)
		if err := n.Snapshot(0); err != nil {
			t.Fatalf("snapshot %d: %v", i, err)
		}
		if got := newest().Size; got*10 > full {
			t.Fatalf("snapshot %d after 2 rows is %d bytes, the full one %d: not incremental", i, got, full)
		}
	}
	if got := len(mustList(t, n)); got != 1+retainSnapshot {
		t.Fatalf("%d snapshots kept, want the base and %d incremental", got, retainSnapshot)
	}
	want := queryValues(t, n.Store, LevelNone, "SELECT * FROM foo ORDER BY id")
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := removeDBFiles(filepath.Join(dir, sqliteName)); err != nil {
		t.Fatal(err)
	}
	n = startNode(t, fileConfig(t, dir, nil), addr, false)
	if got := queryValues(t, n.Store, LevelLinearizable, "SELECT * FROM foo ORDER BY id"); !reflect.DeepEqual(got, want) {
		t.Fatalf("rebuilt from the snapshot chain: %d rows, want %d", len(got), len(want))
	}
	// Rebuilding opened the newest snapshot, which folds the chain into
	// the base in place instead of copying the base.
	if got := len(mustList(t, n)); got != 1 {
		t.Fatalf("%d snapshots after rebuilding from the chain, want 1 (folded)", got)
	}
	// New incrementals on that base; Reap makes them one with it: each
	// WAL checkpointed into the base is one snapshot gone.
	for i := range 2 {
		insert(2)
		if err := n.Snapshot(0); err != nil {
			t.Fatalf("snapshot %d after reopening: %v", i, err)
		}
	}
	incr := len(mustList(t, n)) - 1
	if incr < 1 {
		t.Fatalf("%d incremental snapshots after reopening, want at least 1", incr)
	}
	snaps, wals, err := n.Reap(context.Background())
	if err != nil || snaps != incr || wals != incr {
		t.Fatalf("Reap = %d, %d, %v; want %d, %d", snaps, wals, err, incr, incr)
	}
	if got := len(mustList(t, n)); got != 1 {
		t.Fatalf("%d snapshots after Reap, want 1", got)
	}
}

// TestStore_SnapshotInstallFromChain: a node cut off while the log was
// truncated receives a snapshot rebuilt from a base and WALs, and matches.
func TestStore_SnapshotInstallFromChain(t *testing.T) {
	nodes := newTestCluster(t, 3, false, func(c *Config) { steady(c); c.SnapshotThreshold, c.TrailingLogs = 8, 2 })
	leader := waitLeader(t, nodes)
	mustExecute(t, leader.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)")
	late := followers(nodes, leader)[0]
	partition(nodes, late)
	restores := counter(t, numRestores)
	for i := range 40 {
		mustExecute(t, leader.Store, fmt.Sprintf(`INSERT INTO foo(name) VALUES("n%d")`, i))
		if i%10 == 9 {
			if err := leader.Snapshot(0); err != nil && !strings.Contains(err.Error(), "nothing new") {
				t.Fatalf("Snapshot: %v", err)
			}
		}
	}
	if first, err := leader.logs.FirstIndex(); err != nil || first < 10 {
		t.Fatalf("leader's log starts at %d (%v): not truncated", first, err)
	}
	heal(nodes, late)
	want := queryValues(t, leader.Store, LevelNone, "SELECT * FROM foo ORDER BY id")
	resp := mustExecute(t, leader.Store, "SELECT 1")
	waitAllApplied(t, nodes, resp.RaftIndex)
	if got := queryValues(t, late.Store, LevelNone, "SELECT * FROM foo ORDER BY id"); !reflect.DeepEqual(got, want) {
		t.Fatalf("%s has %d rows, want %d", late.cfg.NodeID, len(got), len(want))
	}
	if counter(t, numRestores) == restores {
		t.Fatalf("%s caught up without a snapshot install", late.cfg.NodeID)
	}
}

func mustList(t *testing.T, n *testNode) []*raft.SnapshotMeta {
	t.Helper()
	metas, err := n.snaps.List()
	if err != nil {
		t.Fatal(err)
	}
	return metas
}

package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/raft"
)

// unreadableSnapshotNode runs a single node with its log in dir that
// writes rows 0..n-1 with a snapshot (and log truncation) every 3 rows,
// closes it, then makes unreadable the snapshot dir that damage picks.
func unreadableSnapshotNode(t *testing.T, dir string, addr raft.ServerAddress, rows int, damage func(snaps string) string) {
	t.Helper()
	n := startNode(t, fileConfig(t, dir, lowTrailing), addr, false)
	mustExecute(t, n.Store, "CREATE TABLE foo (x)")
	for i := range rows {
		mustExecute(t, n.Store, fmt.Sprintf("INSERT INTO foo VALUES(%d)", i))
		if i%3 == 2 {
			if err := n.Snapshot(0); err != nil {
				t.Fatalf("Snapshot: %v", err)
			}
		}
	}
	if err := n.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	snaps := filepath.Join(dir, raftDirName, "snapshots")
	if err := os.Truncate(filepath.Join(snaps, damage(snaps), "meta.json"), 4); err != nil {
		t.Fatal(err)
	}
}

func lowTrailing(c *Config) { c.TrailingLogs = 1 }

// newestWAL names the newest incremental snapshot directory in snaps.
func newestWAL(snaps string) string {
	entries, _ := os.ReadDir(snaps)
	newest := ""
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "wal-") {
			newest = e.Name() // ReadDir sorts; ids start with the term, equal here
		}
	}
	return newest
}

// TestStore_Open_UnreadableIncrementalSnapshot restarts a node whose
// newest snapshot cannot be read (issue 10) and whose log was truncated
// past the base: the snapshot store sets it aside, the log no longer
// reaches the base, and since the database file is current the node
// snapshots it, starts, leads and keeps its data.
func TestStore_Open_UnreadableIncrementalSnapshot(t *testing.T) {
	dir, addr := t.TempDir(), raft.NewInmemAddr()
	unreadableSnapshotNode(t, dir, addr, 8, newestWAL)
	n := startNode(t, fileConfig(t, dir, lowTrailing), addr, false)
	waitFor(t, waitTimeout, "readiness", n.Ready)
	mustExecute(t, n.Store, "INSERT INTO foo VALUES(8)")
	got := queryValues(t, n.Store, LevelStrong, "SELECT COUNT(*) FROM foo")
	if len(got) != 1 || got[0][0] != int64(9) {
		t.Fatalf("rows after restart = %v, want 9", got)
	}
	if metas, err := n.snaps.List(); err != nil || len(metas) == 0 {
		t.Fatalf("snapshots after restart: %d, %v; want the database's", len(metas), err)
	}
}

// TestStore_Open_UnreadableBase restarts a node whose only base cannot be
// read: the node still opens with its current database. (Its
// configuration was only in that snapshot: a member of a cluster follows
// its leader; a single node needs peers.json to lead again.)
func TestStore_Open_UnreadableBase(t *testing.T) {
	dir, addr := t.TempDir(), raft.NewInmemAddr()
	unreadableSnapshotNode(t, dir, addr, 6, func(string) string { return "base" })
	_, tn := raft.NewInmemTransport(addr)
	s := openStore(t, fileConfig(t, dir, lowTrailing), tn)
	got := queryValues(t, s, LevelNone, "SELECT COUNT(*) FROM foo")
	if len(got) != 1 || got[0][0] != int64(6) {
		t.Fatalf("rows after restart = %v, want 6", got)
	}
	if metas, err := s.snaps.List(); err != nil || len(metas) == 0 {
		t.Fatalf("snapshots after restart: %d, %v; want the database's", len(metas), err)
	}
}

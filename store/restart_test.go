package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/hashicorp/raft"
)

// startNode opens a store on c with an in-memory transport at addr and,
// if it has no state, bootstraps it as a single voter.
func startNode(t *testing.T, c Config, addr raft.ServerAddress, fake bool) *testNode {
	t.Helper()
	_, tn := raft.NewInmemTransport(addr)
	n := &testNode{tn: tn}
	if fake {
		n.useFake(&c)
	}
	n.Store = openStore(t, c, tn)
	has, err := n.HasState()
	if err != nil {
		t.Fatal(err)
	}
	if !has {
		if err := n.Bootstrap(Server{ID: c.NodeID, Addr: string(addr), Voter: true}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.WaitForLeader(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, waitTimeout, "leadership", n.IsLeader)
	return n
}

// fileConfig is a single-node config with its Raft log on disk in dir.
func fileConfig(t *testing.T, dir string, tweak func(*Config)) Config {
	c := testConfig(t, "node0")
	c.Dir = dir
	c.inmemRaft = false
	if tweak != nil {
		tweak(&c)
	}
	return c
}

func TestStore_Restart_Fake(t *testing.T) {
	tests := []struct {
		name         string
		tweak        func(*Config)
		snapshot     bool
		wantRestores int64
	}{
		{"log replay", nil, false, 0},
		{"snapshot and truncated log", func(c *Config) { c.SnapshotThreshold = 2; c.TrailingLogs = 1 }, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			addr := raft.NewInmemAddr()
			n := startNode(t, fileConfig(t, dir, tt.tweak), addr, true)
			ctx := context.Background()
			for i := range 10 {
				if _, err := n.Execute(ctx, stmts(fmt.Sprintf("INSERT %d", i))); err != nil {
					t.Fatal(err)
				}
				if tt.snapshot && i == 6 {
					if err := n.Snapshot(0); err != nil {
						t.Fatalf("Snapshot: %v", err)
					}
				}
			}
			want, applied := n.fake.snapshotRows(), n.AppliedIndex()
			if err := n.Close(ctx); err != nil {
				t.Fatal(err)
			}
			before := counter(t, numRestoresStart)
			n = startNode(t, fileConfig(t, dir, tt.tweak), addr, true)
			if has, _ := n.HasState(); !has {
				t.Fatal("HasState() = false after restart")
			}
			if got := counter(t, numRestoresStart) - before; got != tt.wantRestores {
				t.Fatalf("start-up restores = %d, want %d", got, tt.wantRestores)
			}
			waitFor(t, waitTimeout, "readiness", n.Ready)
			if got := n.AppliedIndex(); got < applied {
				t.Fatalf("Ready() with applied index %d, before the replay to %d", got, applied)
			}
			if got := n.fake.snapshotRows(); !slices.Equal(got, want) {
				t.Fatalf("rows after restart = %v, want %v", got, want)
			}
			if _, err := n.Execute(ctx, stmts("INSERT more")); err != nil {
				t.Fatalf("Execute after restart: %v", err)
			}
		})
	}
}

func TestStore_Open_DataDirInUse(t *testing.T) {
	dir, addr := t.TempDir(), raft.NewInmemAddr()
	c := fileConfig(t, dir, nil)
	first := startNode(t, c, addr, false)
	mustExecute(t, first.Store, "CREATE TABLE foo (x)")

	_, tn := raft.NewInmemTransport("")
	second, err := New(c, tn)
	if err != nil {
		t.Fatal(err)
	}
	if err := second.Open(context.Background()); !errors.Is(err, ErrDirLocked) {
		second.Close(context.Background())
		t.Fatalf("second Open on a data dir in use = %v, want ErrDirLocked", err)
	}
	if _, err := os.Stat(filepath.Join(dir, sqliteName)); err != nil {
		t.Fatalf("the running node's database is gone: %v", err)
	}
	mustExecute(t, first.Store, "INSERT INTO foo VALUES(1)")
}

// TestStore_Open_PeersJSON forces a new configuration with peers.json, as
// an operator does after losing quorum: the node comes back as the sole
// voter at a new address, with its data, and the file is moved aside.
func TestStore_Open_PeersJSON(t *testing.T) {
	dir := t.TempDir()
	c := fileConfig(t, dir, nil)
	first := startNode(t, c, raft.NewInmemAddr(), false)
	mustExecute(t, first.Store, "CREATE TABLE foo (x)")
	mustExecute(t, first.Store, "INSERT INTO foo VALUES(42)")
	if err := first.Close(context.Background()); err != nil {
		t.Fatal(err)
	}

	newAddr := raft.NewInmemAddr()
	peers := fmt.Sprintf(`[{"id":%q,"address":%q,"non_voter":false}]`, c.NodeID, newAddr)
	peersPath := filepath.Join(dir, raftDirName, peersFile)
	if err := os.WriteFile(peersPath, []byte(peers), 0o644); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, c, newAddr, false)
	servers, err := n.Servers()
	if err != nil || len(servers) != 1 || servers[0].Addr != string(newAddr) {
		t.Fatalf("servers after recovery: %+v, %v", servers, err)
	}
	resp, err := n.Query(context.Background(), stmts("SELECT x FROM foo"))
	if err != nil || len(resp.Results) != 1 || len(resp.Results[0].Values) != 1 || resp.Results[0].Values[0][0] != int64(42) {
		t.Fatalf("data after recovery: %+v, %v", resp, err)
	}
	if _, err := os.Stat(peersPath); !os.IsNotExist(err) {
		t.Fatalf("peers.json still in place: %v", err)
	}
	if _, err := os.Stat(peersPath + ".recovered"); err != nil {
		t.Fatalf("peers.json not moved aside: %v", err)
	}
}

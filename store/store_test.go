package store

import (
	"context"
	"errors"
	"expvar"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

func counter(t *testing.T, name string) int64 {
	t.Helper()
	v, ok := counters().Get(name).(*expvar.Int)
	if !ok {
		t.Fatalf("counter %s not published", name)
	}
	return v.Value()
}

func TestStore_NotOpen(t *testing.T) {
	c := testConfig(t, "n1")
	_, tn := raft.NewInmemTransport("")
	s, err := New(c, tn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"Execute", func() error { _, err := s.Execute(ctx, stmts("INSERT")); return err }},
		{"Query", func() error { _, err := s.Query(ctx, stmts("SELECT 1")); return err }},
		{"Request", func() error { _, err := s.Request(ctx, stmts("SELECT 1")); return err }},
		{"Ping", func() error { return s.Ping(ctx) }},
		{"WaitForSync", func() error { return s.WaitForSync(ctx) }},
		{"Snapshot", func() error { return s.Snapshot(0) }},
		{"Bootstrap", func() error { return s.Bootstrap() }},
		{"Servers", func() error { _, err := s.Servers(); return err }},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			if err := c.call(); !errors.Is(err, ErrNotOpen) {
				t.Fatalf("%s before Open = %v, want ErrNotOpen", c.name, err)
			}
		})
	}
	if s.IsOpen() || s.Ready() || s.IsLeader() || s.LeaderAddr() != "" {
		t.Fatal("unopened store reports open, ready, leader or a leader address")
	}
	got, err := s.Stats()
	if err != nil || len(got) != 1 || got["open"] != false {
		t.Fatalf("Stats() = %v, %v; want {open:false}", got, err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close of unopened store: %v", err)
	}
	if err := s.Open(ctx); err == nil {
		t.Fatal("Open after Close succeeded")
	}
}

func TestStore_SingleNode_Status(t *testing.T) {
	n := newTestStore(t, true)
	if has, err := n.HasState(); err != nil || has {
		t.Fatalf("HasState() = %v, %v on a fresh node, want false", has, err)
	}
	if !n.IsOpen() || !n.Ready() || !n.IsLeader() {
		t.Fatalf("open/ready/leader = %v/%v/%v, want all true", n.IsOpen(), n.Ready(), n.IsLeader())
	}
	if got, want := n.LeaderAddr(), string(n.tn.LocalAddr()); got != want {
		t.Fatalf("LeaderAddr() = %q, want %q", got, want)
	}
	if got, want := n.LeaderID(), "node0"; got != want {
		t.Fatalf("LeaderID() = %q, want %q", got, want)
	}
	servers, err := n.Servers()
	if err != nil {
		t.Fatal(err)
	}
	if want := []Server{{ID: "node0", Addr: string(n.tn.LocalAddr()), Voter: true}}; len(servers) != 1 || servers[0] != want[0] {
		t.Fatalf("Servers() = %+v, want %+v", servers, want)
	}
	if err := n.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := n.WaitForSync(context.Background()); err != nil {
		t.Fatalf("WaitForSync: %v", err)
	}
	assertStats(t, n)
}

func assertStats(t *testing.T, n *testNode) {
	t.Helper()
	st, err := n.Stats()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"open", "ready", "node_id", "addr", "leader", "fsm_index", "fsm_term",
		"db_applied_index", "nodes", "dir", "snapshot_store", "db_conf", "raft", "sqlite3"} {
		if _, ok := st[k]; !ok {
			t.Errorf("Stats() lacks %q", k)
		}
	}
	if got := st["leader"].(map[string]any)["node_id"]; got != "node0" {
		t.Errorf("stats leader.node_id = %v, want node0", got)
	}
	rs := st["raft"].(map[string]any)
	if rs["state"] != "Leader" || rs["voter"] != true {
		t.Errorf("stats raft state/voter = %v/%v, want Leader/true", rs["state"], rs["voter"])
	}
	if _, ok := rs["commit_index"].(uint64); !ok {
		t.Errorf("stats raft.commit_index is %T, want a number", rs["commit_index"])
	}
	if _, ok := st["db_conf"].(map[string]any)["fk_constraints"].(bool); !ok {
		t.Errorf("stats db_conf.fk_constraints is not a bool")
	}
	nodes := st["nodes"].([]map[string]any)
	if len(nodes) != 1 || nodes[0]["suffrage"] != "Voter" {
		t.Errorf("stats nodes = %v, want one voter", nodes)
	}
}

func TestStore_Execute_EntryCarriesEnv(t *testing.T) {
	n := newTestStore(t, true)
	before := time.Now()
	var indexes []uint64
	for i := range 3 {
		resp, err := n.Execute(context.Background(), stmts("INSERT "+strconv.Itoa(i)))
		if err != nil {
			t.Fatalf("Execute: %v", err)
		}
		if got, want := resp.Results[0].LastInsertID, int64(i+1); got != want {
			t.Fatalf("LastInsertID = %d, want %d", got, want)
		}
		indexes = append(indexes, resp.RaftIndex)
	}
	var envs []db.Env
	n.fake.set(func(f *fakeDB) { envs = append(envs, f.envs...) })
	if len(envs) != 3 {
		t.Fatalf("fake saw %d applies, want 3", len(envs))
	}
	for i, env := range envs {
		if got, want := env.Seed, indexes[i]; got != want {
			t.Errorf("apply %d seed = %d, want its raft index %d", i, got, want)
		}
		if env.Now.Before(before) || env.Now.After(time.Now()) {
			t.Errorf("apply %d now = %v, want between %v and now", i, env.Now, before)
		}
	}
	if got, want := n.AppliedIndex(), indexes[2]; got != want {
		t.Fatalf("AppliedIndex() = %d, want %d", got, want)
	}
}

func TestStore_RejectedRequestNotApplied(t *testing.T) {
	n := newTestStore(t, true)
	ctx := context.Background()
	bad := stmts("INSERT 1", "PRAGMA journal_mode=DELETE")
	for name, call := range map[string]func(context.Context, *Request) (Response, error){
		"Execute": n.Execute, "Query": n.Query, "Request": n.Request,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := call(ctx, bad); !errors.Is(err, db.ErrDisallowedPragma) {
				t.Fatalf("%s error = %v, want db.ErrDisallowedPragma", name, err)
			}
		})
	}
	if got := n.fake.snapshotRows(); len(got) != 0 {
		t.Fatalf("rejected request applied %v", got)
	}
}

func TestStore_SingleNode_ReadLevels(t *testing.T) {
	n := newTestStore(t, true)
	ctx := context.Background()
	if _, err := n.Execute(ctx, stmts("INSERT 1")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		level     Level
		viaLog    bool // served by a log entry (RaftIndex set)
		wantCount int64
	}{
		{LevelNone, false, 1},
		{LevelWeak, false, 1},
		{LevelStrong, true, 1},
		{LevelLinearizable, false, 1}, // the strong read above applied an entry of this term
		{LevelAuto, false, 1},
	}
	for _, tt := range tests {
		t.Run(tt.level.String(), func(t *testing.T) {
			req := stmts("SELECT n")
			req.Level = tt.level
			req.Freshness = time.Nanosecond // ignored on the leader
			resp, err := n.Query(ctx, req)
			if err != nil {
				t.Fatalf("Query: %v", err)
			}
			if got := resp.RaftIndex != 0; got != tt.viaLog {
				t.Fatalf("RaftIndex = %d, want via log %v", resp.RaftIndex, tt.viaLog)
			}
			if got := resp.Results[0].Values[0][0]; got != tt.wantCount {
				t.Fatalf("count = %v, want %d", got, tt.wantCount)
			}
		})
	}
}

func TestStore_Linearizable_UpgradesUntilTermEntryApplied(t *testing.T) {
	n := newTestStore(t, true)
	ctx := context.Background()
	req := stmts("SELECT n")
	req.Level = LevelLinearizable
	before := counter(t, numLinearizableUpgrades)
	first, err := n.Query(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first.RaftIndex == 0 {
		t.Fatal("first linearizable read of the term was not upgraded to a log entry")
	}
	if got := counter(t, numLinearizableUpgrades) - before; got != 1 {
		t.Fatalf("upgrades counted = %d, want 1", got)
	}
	second, err := n.Query(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if second.RaftIndex != 0 {
		t.Fatalf("second linearizable read went through the log (index %d), want read-index", second.RaftIndex)
	}
}

func TestStore_Request_ReadOrWrite(t *testing.T) {
	n := newTestStore(t, true)
	ctx := context.Background()
	tests := []struct {
		name       string
		req        *Request
		level      Level
		wantViaLog bool
		wantRows   int
	}{
		{"read only, weak", stmts("SELECT n"), LevelWeak, false, 0},
		{"read only, strong", stmts("SELECT n"), LevelStrong, true, 0},
		{"mixed", stmts("INSERT a", "SELECT n"), LevelWeak, true, 1},
		{"write, level none", stmts("INSERT b"), LevelNone, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Level = tt.level
			resp, err := n.Request(ctx, tt.req)
			if err != nil {
				t.Fatalf("Request: %v", err)
			}
			if got := resp.RaftIndex != 0; got != tt.wantViaLog {
				t.Fatalf("RaftIndex = %d, want via log %v", resp.RaftIndex, tt.wantViaLog)
			}
			if got := len(n.fake.snapshotRows()); got != tt.wantRows {
				t.Fatalf("database has %d rows, want %d", got, tt.wantRows)
			}
		})
	}
}

func TestStore_Execute_ContextCancelled(t *testing.T) {
	n := newTestStore(t, true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := n.Execute(ctx, stmts("INSERT 1")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Execute with cancelled ctx = %v, want context.Canceled", err)
	}
	if got := n.fake.snapshotRows(); len(got) != 0 {
		t.Fatalf("cancelled request was applied: %v", got)
	}
}

func TestStore_Close_Idempotent(t *testing.T) {
	n := newTestStore(t, true)
	ctx := context.Background()
	for i := range 2 {
		if err := n.Close(ctx); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if n.IsOpen() {
		t.Fatal("IsOpen() after Close")
	}
	if _, err := n.Execute(ctx, stmts("INSERT 1")); !errors.Is(err, ErrNotOpen) {
		t.Fatalf("Execute after Close = %v, want ErrNotOpen", err)
	}
	if !n.fake.closed {
		t.Fatal("database not closed")
	}
}

func TestStore_Snapshot_Forced(t *testing.T) {
	n := newTestStore(t, true)
	ctx := context.Background()
	if _, err := n.Execute(ctx, stmts("INSERT 1")); err != nil {
		t.Fatal(err)
	}
	before := counter(t, numSnapshots)
	if err := n.Snapshot(1); err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	if err := n.Snapshot(0); !errors.Is(err, ErrNothingNewToSnapshot) {
		t.Fatalf("second Snapshot = %v, want ErrNothingNewToSnapshot", err)
	}
	if got := counter(t, numSnapshots) - before; got != 1 {
		t.Fatalf("num_snapshots grew by %d, want 1", got)
	}
	var checkpoints int
	n.fake.set(func(f *fakeDB) { checkpoints = f.checkpoints })
	if checkpoints != 1 {
		t.Fatalf("checkpoints after snapshot = %d, want 1", checkpoints)
	}
	metas, err := n.snaps.List()
	if err != nil || len(metas) != 1 {
		t.Fatalf("snapshot store has %d snapshots (%v), want 1", len(metas), err)
	}
	if got := n.raft.ReloadableConfig().TrailingLogs; got != n.cfg.TrailingLogs {
		t.Fatalf("TrailingLogs after forced snapshot = %d, want %d restored", got, n.cfg.TrailingLogs)
	}
}

func TestStore_Snapshot_WALSizeTrigger(t *testing.T) {
	var n *testNode
	nodes := newTestCluster(t, 1, true, func(c *Config) {
		c.SnapshotInterval = 20 * time.Millisecond
		c.SnapshotWALSize = 1000
	})
	n = nodes[0]
	if _, err := n.Execute(context.Background(), stmts("INSERT 1")); err != nil {
		t.Fatal(err)
	}
	n.fake.set(func(f *fakeDB) { f.walSize = 2000 })
	waitFor(t, waitTimeout, "a snapshot triggered by WAL size", func() bool {
		metas, err := n.snaps.List()
		return err == nil && len(metas) > 0
	})
}

package store

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

var verbose = flag.Bool("store.log", false, "log store and raft messages to stderr")

const waitTimeout = 10 * time.Second

// waitFor polls cond until it holds or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLogger() *slog.Logger {
	if *verbose {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// testConfig is a config for a node with 50 ms Raft timeouts, its log in
// memory and its data in a fresh temp dir.
func testConfig(t testing.TB, id string) Config {
	t.Helper()
	c := DefaultConfig()
	c.Dir = t.TempDir()
	c.NodeID = id
	c.HeartbeatTimeout = 50 * time.Millisecond
	c.ElectionTimeout = 50 * time.Millisecond
	c.LeaderLeaseTimeout = 50 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.ApplyTimeout = 5 * time.Second
	c.RaftLogLevel = "WARN"
	c.Logger = testLogger()
	c.inmemRaft = true
	return c
}

// steady gives a multi-node test cluster timeouts a loaded machine does
// not trip (50 ms ones elect new leaders when the test process is starved
// for a moment), for tests that need one leader throughout. Bootstrap
// still elects at once: every peer counts as reachable for the early
// election.
func steady(c *Config) {
	c.HeartbeatTimeout, c.ElectionTimeout = time.Second, time.Second
	c.LeaderLeaseTimeout = 500 * time.Millisecond
	c.dialPeer = func(context.Context, string) error { return nil }
}

// testNode is one store of a test cluster with its in-memory transport.
type testNode struct {
	*Store
	tn   *raft.InmemTransport
	fake *fakeDB // set when the node runs on a fakeDB
}

// useFake makes n's store run on a fresh fakeDB.
func (n *testNode) useFake(c *Config) {
	c.openDB = func(db.Config) (database, error) {
		n.fake = newFakeDB()
		return n.fake, nil
	}
}

// newTestCluster starts n connected, bootstrapped nodes (fake databases
// if fake) and waits for a leader. Nodes are closed in t.Cleanup.
func newTestCluster(t testing.TB, n int, fake bool, tweak func(*Config)) []*testNode {
	t.Helper()
	nodes := make([]*testNode, n)
	servers := make([]Server, n)
	for i := range nodes {
		addr, tn := raft.NewInmemTransport("")
		nodes[i] = &testNode{tn: tn}
		servers[i] = Server{ID: fmt.Sprintf("node%d", i), Addr: string(addr), Voter: true}
	}
	for _, a := range nodes {
		for _, b := range nodes {
			if a != b {
				a.tn.Connect(b.tn.LocalAddr(), b.tn)
			}
		}
	}
	for i, node := range nodes {
		c := testConfig(t, servers[i].ID)
		if fake {
			node.useFake(&c)
		}
		if tweak != nil {
			tweak(&c)
		}
		node.Store = openStore(t, c, node.tn)
		// A node may already have the configuration from a leader that
		// the nodes bootstrapped before it elected.
		if err := node.Bootstrap(servers...); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			t.Fatalf("Bootstrap %s: %v", c.NodeID, err)
		}
	}
	waitLeader(t, nodes)
	return nodes
}

// openStore creates and opens a store, closing it in t.Cleanup.
func openStore(t testing.TB, c Config, tn raft.Transport) *Store {
	t.Helper()
	s, err := New(c, tn)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if err := s.Open(context.Background()); err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			t.Errorf("Close %s: %v", c.NodeID, err)
		}
	})
	return s
}

// newTestStore is a bootstrapped single-node cluster.
func newTestStore(t testing.TB, fake bool) *testNode {
	t.Helper()
	return newTestCluster(t, 1, fake, nil)[0]
}

// waitLeader waits until one node of nodes leads and all the others that
// are connected know it; it returns the leader.
func waitLeader(t testing.TB, nodes []*testNode) *testNode {
	t.Helper()
	var leader *testNode
	waitFor(t, waitTimeout, "a leader", func() bool {
		leader = nil
		for _, n := range nodes {
			if n.IsLeader() {
				leader = n
			}
		}
		return leader != nil
	})
	return leader
}

// followers returns the nodes other than leader.
func followers(nodes []*testNode, leader *testNode) []*testNode {
	var out []*testNode
	for _, n := range nodes {
		if n != leader {
			out = append(out, n)
		}
	}
	return out
}

// partition cuts n off from every other node, both ways.
func partition(nodes []*testNode, n *testNode) {
	for _, o := range nodes {
		if o != n {
			n.tn.Disconnect(o.tn.LocalAddr())
			o.tn.Disconnect(n.tn.LocalAddr())
		}
	}
}

// heal reconnects n to every other node.
func heal(nodes []*testNode, n *testNode) {
	for _, o := range nodes {
		if o != n {
			n.tn.Connect(o.tn.LocalAddr(), o.tn)
			o.tn.Connect(n.tn.LocalAddr(), n.tn)
		}
	}
}

// waitApplied waits until every node's FSM has applied index.
func waitAllApplied(t testing.TB, nodes []*testNode, index uint64) {
	t.Helper()
	for _, n := range nodes {
		waitFor(t, waitTimeout, fmt.Sprintf("%s to apply index %d", n.cfg.NodeID, index), func() bool {
			return n.AppliedIndex() >= index
		})
	}
}

// stmts builds a request of plain statements.
func stmts(sql ...string) *Request {
	r := &Request{}
	for _, s := range sql {
		r.Statements = append(r.Statements, db.Statement{SQL: s})
	}
	return r
}

// fakeDB stands in for SQLite in tests of the Raft logic. Its "database"
// is the list of write statements applied; a read returns its length.
type fakeDB struct {
	mu          sync.Mutex
	rows        []string
	envs        []db.Env
	walSize     int64
	checkpoints int
	restores    int
	closed      bool
	at          db.Applied
	reads       int // statements run in db.ModeQuery (strong reads)
}

// fakeFile is what the fake's CopyTo writes and Restore reads.
type fakeFile struct {
	Rows []string
	At   db.Applied
}

var _ database = (*fakeDB)(nil)

func newFakeDB() *fakeDB { return &fakeDB{} }

func isRead(sql string) bool { return strings.HasPrefix(strings.ToUpper(sql), "SELECT") }

func (f *fakeDB) CheckRequest(req *db.Request) error {
	for _, s := range req.Statements {
		if strings.HasPrefix(strings.ToUpper(s.SQL), "PRAGMA JOURNAL_MODE=") {
			return db.ErrDisallowedPragma
		}
	}
	return nil
}

func (f *fakeDB) Apply(_ context.Context, req *db.Request, mode db.Mode, env db.Env) ([]db.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.envs = append(f.envs, env)
	out := make([]db.Result, len(req.Statements))
	for i, s := range req.Statements {
		if mode == db.ModeQuery {
			f.reads++
		}
		switch {
		case isRead(s.SQL) && mode != db.ModeExecute:
			out[i] = f.countLocked()
		case mode == db.ModeQuery:
			out[i] = db.Result{Error: db.ErrQueryWrite.Error()}
		default:
			f.rows = append(f.rows, s.SQL)
			out[i] = db.Result{LastInsertID: int64(len(f.rows)), RowsAffected: 1}
		}
	}
	return out, nil
}

func (f *fakeDB) ApplyBatch(ctx context.Context, entries []db.Entry) ([][][]db.Result, error) {
	out := make([][][]db.Result, len(entries))
	for k, e := range entries {
		out[k] = make([][]db.Result, len(e.Items))
		for i, it := range e.Items {
			res, err := f.Apply(ctx, it.Req, it.Mode, it.Env)
			if err != nil {
				return nil, err
			}
			out[k][i] = res
		}
		if err := f.SetApplied(ctx, e.At); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (f *fakeDB) Applied(context.Context) (db.Applied, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.at, nil
}

func (f *fakeDB) SetApplied(_ context.Context, at db.Applied) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = at
	return nil
}

func (f *fakeDB) countLocked() db.Result {
	return db.Result{Rows: true, Columns: []string{"n"}, Types: []string{"integer"},
		Values: [][]any{{int64(len(f.rows))}}}
}

func (f *fakeDB) Query(_ context.Context, req *db.Request) ([]db.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]db.Result, len(req.Statements))
	for i, s := range req.Statements {
		out[i] = db.Result{Error: db.ErrQueryWrite.Error()}
		if isRead(s.SQL) {
			out[i] = f.countLocked()
		}
	}
	return out, nil
}

func (f *fakeDB) ReadOnly(_ context.Context, stmts []db.Statement) (bool, error) {
	for _, s := range stmts {
		if !isRead(s.SQL) {
			return false, nil
		}
	}
	return true, nil
}

func (f *fakeDB) Ping(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return db.ErrClosed
	}
	return nil
}

func (f *fakeDB) CopyTo(_ context.Context, path string) error {
	f.mu.Lock()
	b, err := json.Marshal(fakeFile{Rows: f.rows, At: f.at})
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

func (f *fakeDB) Restore(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var ff fakeFile
	if err := json.Unmarshal(b, &ff); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows, f.at = ff.Rows, ff.At
	f.restores++
	return os.Remove(path)
}

func (f *fakeDB) Checkpoint(context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.checkpoints++
	return nil
}

func (f *fakeDB) WALSize() (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.walSize, nil
}

func (f *fakeDB) Stats() (map[string]any, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return map[string]any{"rows": len(f.rows)}, nil
}

func (f *fakeDB) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// snapshotRows returns a copy of the applied statements.
func (f *fakeDB) snapshotRows() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.rows...)
}

// set updates the fake under its lock.
func (f *fakeDB) set(fn func(f *fakeDB)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// txRun runs one statement in tx and fails on any error.
func txRun(t *testing.T, tx *Tx, sql string, args ...any) db.Result {
	t.Helper()
	st := db.Statement{SQL: sql}
	for _, a := range args {
		st.Parameters = append(st.Parameters, db.Parameter{Value: a})
	}
	res, err := tx.Run(context.Background(), &db.Request{Statements: []db.Statement{st}})
	if err != nil {
		t.Fatalf("Run %q: %v", sql, err)
	}
	if len(res) != 1 || res[0].Error != "" {
		t.Fatalf("Run %q: %+v", sql, res)
	}
	return res[0]
}

// beginAtLeader begins a transaction at the current leader, retrying
// while leadership moves (50 ms Raft timeouts on a loaded machine).
func beginAtLeader(t *testing.T, nodes []*testNode) (*testNode, *Tx) {
	t.Helper()
	var (
		leader *testNode
		tx     *Tx
		err    error
	)
	waitFor(t, waitTimeout, "a transaction to begin at the leader", func() bool {
		leader = waitLeader(t, nodes)
		tx, err = leader.Begin(context.Background())
		if err != nil && !errors.Is(err, ErrNotLeader) {
			t.Fatalf("Begin: %v", err)
		}
		return err == nil
	})
	return leader, tx
}

func TestStore_Tx_CommitIsOneEntryReproducedEverywhere(t *testing.T) {
	nodes := newTestCluster(t, 3, false, steady)
	leader := waitLeader(t, nodes)
	mustExecute(t, leader.Store, "CREATE TABLE t (id INTEGER PRIMARY KEY, r INTEGER, ts TEXT, prev INTEGER)")
	ctx := context.Background()
	leader, tx := beginAtLeader(t, nodes)
	txRun(t, tx, "INSERT INTO t (r, ts) VALUES (RANDOM(), CURRENT_TIMESTAMP)")
	txRun(t, tx, "INSERT INTO t (r, ts, prev) VALUES (RANDOM(), datetime('now'), last_insert_rowid())")
	seen := txRun(t, tx, "SELECT id, r, ts, prev, changes() FROM t ORDER BY id")
	if len(seen.Values) != 2 {
		t.Fatalf("own writes not visible inside the transaction: %+v", seen)
	}
	// Not visible outside before COMMIT.
	if got := queryValues(t, leader.Store, LevelWeak, "SELECT COUNT(*) FROM t"); got[0][0] != int64(0) {
		t.Fatalf("uncommitted rows visible outside: %v", got)
	}
	before := leader.AppliedIndex()
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	// Exactly one command entry (the barrier at BEGIN is no command).
	for i := before + 1; i <= leader.AppliedIndex(); i++ {
		var l raft.Log
		if err := leader.logs.GetLog(i, &l); err != nil {
			t.Fatalf("GetLog %d: %v", i, err)
		}
		isTx := l.Type == raft.LogCommand && len(l.Data) > 0
		if isTx {
			cmd, err := decodeCommand(l.Data)
			if err != nil || cmd.Type != cmdTx || i != leader.AppliedIndex() {
				t.Fatalf("entry %d after BEGIN: %+v %v, want only the transaction's", i, cmd, err)
			}
		} else if i == leader.AppliedIndex() {
			t.Fatalf("last entry %d is not the transaction", i)
		}
	}
	waitAllApplied(t, nodes, leader.AppliedIndex())
	for _, n := range nodes {
		got := queryValues(t, n.Store, LevelNone, "SELECT id, r, ts, prev, 1 FROM t ORDER BY id")
		want := seen.Values
		for i := range want {
			want[i][4] = int64(1)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s holds %v, the client saw %v", n.cfg.NodeID, got, want)
		}
	}
}

func TestStore_Tx_RollbackLeavesNothing(t *testing.T) {
	n := newTestStore(t, false)
	mustExecute(t, n.Store, "CREATE TABLE t (x)")
	tx, err := n.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	txRun(t, tx, "INSERT INTO t VALUES (1)")
	before := n.AppliedIndex()
	tx.Rollback()
	if got := queryValues(t, n.Store, LevelWeak, "SELECT COUNT(*) FROM t"); got[0][0] != int64(0) {
		t.Fatalf("rolled back row visible: %v", got)
	}
	if n.AppliedIndex() != before {
		t.Fatalf("rollback logged an entry")
	}
	if _, err := tx.Run(context.Background(), &db.Request{Statements: []db.Statement{{SQL: "SELECT 1"}}}); err == nil {
		t.Fatal("Run after Rollback succeeded")
	}
	// The slot is free again: a plain write goes through at once.
	mustExecute(t, n.Store, "INSERT INTO t VALUES (2)")
}

func TestStore_Tx_WritesWaitThenBusy(t *testing.T) {
	nodes := newTestCluster(t, 1, false, func(c *Config) { c.TxBusyTimeout = 300 * time.Millisecond })
	n := nodes[0]
	mustExecute(t, n.Store, "CREATE TABLE t (x)")
	tx, err := n.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	txRun(t, tx, "INSERT INTO t VALUES (1)")
	resp, err := n.Execute(context.Background(), stmts("INSERT INTO t VALUES (2)"))
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if resp.Results[0].Error != ErrBusy.Error() {
		t.Fatalf("write during a transaction: %+v, want %q", resp.Results, ErrBusy)
	}
	if _, err := n.Begin(context.Background()); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Begin: %v, want ErrBusy", err)
	}
	tx.Rollback()
	mustExecute(t, n.Store, "INSERT INTO t VALUES (5)")
}

func TestStore_Tx_WaitingWriteGoesAfterCommit(t *testing.T) {
	nodes := newTestCluster(t, 1, false, func(c *Config) { c.TxBusyTimeout = time.Minute })
	n := nodes[0]
	mustExecute(t, n.Store, "CREATE TABLE t (x)")
	tx, err := n.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	txRun(t, tx, "INSERT INTO t VALUES (1)")
	done := make(chan Response, 1)
	go func() {
		r, err := n.Execute(context.Background(), stmts("INSERT INTO t VALUES (3)"))
		if err != nil {
			r.Results = []db.Result{{Error: err.Error()}}
		}
		done <- r
	}()
	txRun(t, tx, "INSERT INTO t VALUES (4)")
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if r := <-done; r.Results[0].Error != "" {
		t.Fatalf("waiting write: %+v", r.Results)
	}
	got := queryValues(t, n.Store, LevelStrong, "SELECT x FROM t ORDER BY rowid")
	want := [][]any{{int64(1)}, {int64(4)}, {int64(3)}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rows %v, want %v (the transaction first, whole)", got, want)
	}
}

func TestStore_Tx_IdleTimeoutRollsBack(t *testing.T) {
	nodes := newTestCluster(t, 1, false, func(c *Config) { c.TxIdleTimeout = 200 * time.Millisecond })
	n := nodes[0]
	mustExecute(t, n.Store, "CREATE TABLE t (x)")
	tx, err := n.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	txRun(t, tx, "INSERT INTO t VALUES (1)")
	waitFor(t, waitTimeout, "the idle transaction to end", func() bool { return tx.Err() != nil })
	if err := tx.Commit(context.Background()); !errors.Is(err, ErrTxIdle) {
		t.Fatalf("Commit after idle timeout: %v, want ErrTxIdle", err)
	}
	mustExecute(t, n.Store, "INSERT INTO t VALUES (2)")
	if got := queryValues(t, n.Store, LevelStrong, "SELECT x FROM t"); !reflect.DeepEqual(got, [][]any{{int64(2)}}) {
		t.Fatalf("rows %v", got)
	}
}

func TestStore_Tx_PreemptedByMembershipChange(t *testing.T) {
	nodes := newTestCluster(t, 1, false, nil)
	n := nodes[0]
	mustExecute(t, n.Store, "CREATE TABLE t (x)")
	tx, err := n.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	txRun(t, tx, "INSERT INTO t VALUES (1)")
	// A configuration entry (adding a non-voter that never answers) is
	// applied by the FSM while the transaction is open.
	if err := n.Join("ghost", "127.0.0.1:1", false); err != nil {
		t.Fatalf("Join: %v", err)
	}
	waitFor(t, waitTimeout, "the transaction to be aborted", func() bool { return tx.Err() != nil })
	if err := tx.Commit(context.Background()); !errors.Is(err, ErrTxAborted) {
		t.Fatalf("Commit: %v, want ErrTxAborted", err)
	}
	if got := queryValues(t, n.Store, LevelStrong, "SELECT COUNT(*) FROM t"); got[0][0] != int64(0) {
		t.Fatalf("aborted transaction applied: %v", got)
	}
}

func TestStore_Tx_AbortedByLeaderChange(t *testing.T) {
	nodes := newTestCluster(t, 3, false, steady)
	leader := waitLeader(t, nodes)
	mustExecute(t, leader.Store, "CREATE TABLE t (x)")
	leader, tx := beginAtLeader(t, nodes)
	txRun(t, tx, "INSERT INTO t VALUES (1)")
	partition(nodes, leader)
	rest := followers(nodes, leader)
	newLeader := waitLeader(t, rest)
	mustExecute(t, newLeader.Store, "INSERT INTO t VALUES (2)")
	waitFor(t, waitTimeout, "the old leader to step down", func() bool { return !leader.IsLeader() })
	if _, err := tx.Run(context.Background(), &db.Request{Statements: []db.Statement{{SQL: "INSERT INTO t VALUES (3)"}}}); !errors.Is(err, ErrTxAborted) {
		t.Fatalf("Run after losing leadership: %v, want ErrTxAborted", err)
	}
	if err := tx.Commit(context.Background()); err == nil {
		t.Fatal("Commit after losing leadership succeeded")
	}
	heal(nodes, leader)
	waitAllApplied(t, nodes, newLeader.AppliedIndex())
	for _, n := range nodes {
		if got := queryValues(t, n.Store, LevelNone, "SELECT x FROM t ORDER BY x"); !reflect.DeepEqual(got, [][]any{{int64(2)}}) {
			t.Fatalf("%s holds %v, want only the new leader's write", n.cfg.NodeID, got)
		}
	}
}

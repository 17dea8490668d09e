package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// These tests run the store on real SQLite (package db).

// mustExecute runs SQL statements through the log and fails on any error.
func mustExecute(t testing.TB, s *Store, sql ...string) Response {
	t.Helper()
	resp, err := s.Execute(context.Background(), stmts(sql...))
	if err != nil {
		t.Fatalf("Execute %q: %v", sql, err)
	}
	for i, r := range resp.Results {
		if r.Error != "" {
			t.Fatalf("Execute %q: statement %d: %s", sql, i, r.Error)
		}
	}
	return resp
}

// queryValues runs one SELECT at level and returns its rows.
func queryValues(t testing.TB, s *Store, level Level, sql string) [][]any {
	t.Helper()
	req := stmts(sql)
	req.Level = level
	resp, err := s.Query(context.Background(), req)
	if err != nil {
		t.Fatalf("Query %q at %s: %v", sql, level, err)
	}
	if len(resp.Results) != 1 || resp.Results[0].Error != "" {
		t.Fatalf("Query %q at %s: results %+v", sql, level, resp.Results)
	}
	return resp.Results[0].Values
}

func TestStore_SQL_ParametersRoundTrip(t *testing.T) {
	n := newTestStore(t, false)
	mustExecute(t, n.Store, "CREATE TABLE t (i INTEGER, f REAL, s TEXT, b BLOB, o BOOLEAN, z)")
	req := &Request{}
	req.Statements = []db.Statement{{
		SQL: "INSERT INTO t VALUES (?, ?, :s, ?, ?, ?)",
		Parameters: []db.Parameter{
			{Value: int64(-9007199254740993)}, {Value: 2.5}, {Name: "s", Value: "fiona"},
			{Value: []byte{0xde, 0xad, 0xbe, 0xef}}, {Value: true}, {Value: nil},
		},
	}}
	resp, err := n.Execute(context.Background(), req)
	if err != nil || resp.Results[0].Error != "" {
		t.Fatalf("Execute = %+v, %v", resp, err)
	}
	got := queryValues(t, n.Store, LevelWeak, "SELECT i, f, s, b, o, z FROM t")
	want := [][]any{{int64(-9007199254740993), 2.5, "fiona", []byte{0xde, 0xad, 0xbe, 0xef}, true, nil}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("row = %#v, want %#v", got, want)
	}
}

func TestStore_SQL_Transaction(t *testing.T) {
	tests := []struct {
		name        string
		transaction bool
		wantResults int
		wantRows    int64
	}{
		{"without transaction continues", false, 3, 2},
		{"transaction rolls back and stops", true, 2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newTestStore(t, false)
			mustExecute(t, n.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)")
			req := stmts(`INSERT INTO foo(name) VALUES("fiona")`, "INSERT INTO nope VALUES(1)", `INSERT INTO foo(name) VALUES("declan")`)
			req.Transaction = tt.transaction
			resp, err := n.Execute(context.Background(), req)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if got := len(resp.Results); got != tt.wantResults {
				t.Fatalf("%d results (%+v), want %d", got, resp.Results, tt.wantResults)
			}
			if resp.Results[1].Error == "" {
				t.Fatalf("statement on a missing table did not fail: %+v", resp.Results[1])
			}
			got := queryValues(t, n.Store, LevelStrong, "SELECT COUNT(*) FROM foo")
			if got[0][0] != tt.wantRows {
				t.Fatalf("rows = %v, want %d", got[0][0], tt.wantRows)
			}
		})
	}
}

func TestStore_SQL_Levels(t *testing.T) {
	n := newTestStore(t, false)
	mustExecute(t, n.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)", `INSERT INTO foo(name) VALUES("fiona")`)
	for _, level := range []Level{LevelNone, LevelWeak, LevelLinearizable, LevelStrong, LevelAuto} {
		t.Run(level.String(), func(t *testing.T) {
			got := queryValues(t, n.Store, level, "SELECT id, name FROM foo")
			if want := [][]any{{int64(1), "fiona"}}; !reflect.DeepEqual(got, want) {
				t.Fatalf("rows = %v, want %v", got, want)
			}
		})
	}
	t.Run("write through query", func(t *testing.T) {
		for _, level := range []Level{LevelWeak, LevelStrong} {
			req := stmts(`INSERT INTO foo(name) VALUES("x")`)
			req.Level = level
			resp, err := n.Query(context.Background(), req)
			if err != nil {
				t.Fatalf("Query at %s: %v", level, err)
			}
			if got, want := resp.Results[0].Error, db.ErrQueryWrite.Error(); got != want {
				t.Fatalf("error at %s = %q, want %q", level, got, want)
			}
		}
	})
	t.Run("request", func(t *testing.T) {
		resp, err := n.Request(context.Background(), stmts(`INSERT INTO foo(name) VALUES("declan")`, "SELECT COUNT(*) FROM foo"))
		if err != nil {
			t.Fatalf("Request: %v", err)
		}
		if resp.RaftIndex == 0 || resp.Results[0].LastInsertID != 2 || resp.Results[1].Values[0][0] != int64(2) {
			t.Fatalf("Request = %+v, want a logged write then a count of 2", resp)
		}
	})
}

func TestStore_SQL_DisallowedPragma(t *testing.T) {
	n := newTestStore(t, false)
	before := n.AppliedIndex()
	_, err := n.Execute(context.Background(), stmts("CREATE TABLE t (x)", "PRAGMA journal_mode=DELETE"))
	if !errors.Is(err, db.ErrDisallowedPragma) {
		t.Fatalf("Execute = %v, want db.ErrDisallowedPragma", err)
	}
	if got := n.AppliedIndex(); got != before {
		t.Fatalf("applied index moved from %d to %d: the request was logged", before, got)
	}
}

func TestStore_SQL_Replication(t *testing.T) {
	nodes := newTestCluster(t, 3, false, steady)
	leader := waitLeader(t, nodes)
	mustExecute(t, leader.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)")
	resp := mustExecute(t, leader.Store, `INSERT INTO foo(name) VALUES("fiona")`)
	waitAllApplied(t, nodes, resp.RaftIndex)
	for _, n := range followers(nodes, leader) {
		got := queryValues(t, n.Store, LevelNone, "SELECT id, name FROM foo")
		if want := [][]any{{int64(1), "fiona"}}; !reflect.DeepEqual(got, want) {
			t.Fatalf("%s rows = %v, want %v", n.cfg.NodeID, got, want)
		}
	}
}

func TestStore_SQL_Restart(t *testing.T) {
	snap := func(c *Config) { c.SnapshotThreshold = 4; c.TrailingLogs = 2 }
	tests := []struct {
		name     string
		tweak    func(*Config)
		snapshot bool
		removeDB bool // the database file is lost while the node is down
		// wantRestore: the snapshot is copied in at start; wantSkipped:
		// the file was current and the copy skipped.
		wantRestore, wantSkipped bool
	}{
		{"file kept, log replay", nil, false, false, false, false},
		{"file kept, snapshot skipped", snap, true, false, false, true},
		{"file lost, log replay", nil, false, true, false, false},
		{"file lost, snapshot restored", snap, true, true, true, false},
	}
	firstIndex := func(n *testNode) uint64 {
		i, err := n.logs.FirstIndex()
		if err != nil {
			t.Fatal(err)
		}
		return i
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir, addr := t.TempDir(), raft.NewInmemAddr()
			n := startNode(t, fileConfig(t, dir, tt.tweak), addr, false)
			mustExecute(t, n.Store, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)")
			for i := range 10 {
				mustExecute(t, n.Store, fmt.Sprintf(`INSERT INTO foo(name) VALUES("name%d")`, i))
				if tt.snapshot && i == 5 {
					if err := n.Snapshot(0); err != nil {
						t.Fatalf("Snapshot: %v", err)
					}
				}
			}
			want := queryValues(t, n.Store, LevelNone, "SELECT * FROM foo ORDER BY id")
			if truncated := firstIndex(n) > 1; truncated != tt.snapshot {
				t.Fatalf("log truncated = %v (first index %d), want %v", truncated, firstIndex(n), tt.snapshot)
			}
			if err := n.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if tt.removeDB {
				if err := removeDBFiles(filepath.Join(dir, sqliteName)); err != nil {
					t.Fatal(err)
				}
			}
			before, beforeSkipped := counter(t, numRestoresStart), counter(t, numRestoresStartSkipped)
			n = startNode(t, fileConfig(t, dir, tt.tweak), addr, false)
			if restored := counter(t, numRestoresStart) > before; restored != tt.wantRestore {
				t.Fatalf("restored a snapshot at start = %v, want %v", restored, tt.wantRestore)
			}
			if skipped := counter(t, numRestoresStartSkipped) > beforeSkipped; skipped != tt.wantSkipped {
				t.Fatalf("skipped the snapshot restore at start = %v, want %v", skipped, tt.wantSkipped)
			}
			// A linearizable read waits for the replay (upgraded to strong at first).
			got := queryValues(t, n.Store, LevelLinearizable, "SELECT * FROM foo ORDER BY id")
			if !reflect.DeepEqual(got, want) || len(got) != 10 {
				t.Fatalf("rows after restart = %v, want %v", got, want)
			}
		})
	}
}

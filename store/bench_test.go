package store

import (
	"context"
	"fmt"
	"testing"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// newBenchStore is a single-node store on real SQLite with its Raft log in
// raft-boltdb (fsync on every append) and an in-memory transport.
func newBenchStore(b *testing.B) *Store {
	b.Helper()
	c := testConfig(b, "node0")
	c.inmemRaft = false
	c.HeartbeatTimeout, c.ElectionTimeout = DefaultConfig().HeartbeatTimeout, DefaultConfig().ElectionTimeout
	c.LeaderLeaseTimeout = 0
	addr, tn := raft.NewInmemTransport("")
	s := openStore(b, c, tn)
	if err := s.Bootstrap(Server{ID: c.NodeID, Addr: string(addr), Voter: true}); err != nil {
		b.Fatal(err)
	}
	waitFor(b, waitTimeout, "leadership", s.IsLeader)
	mustExecute(b, s, "CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT, n INTEGER)")
	return s
}

func BenchmarkStore_Execute(b *testing.B) {
	s := newBenchStore(b)
	ctx := context.Background()
	req := &Request{}
	req.Statements = []db.Statement{{SQL: "INSERT INTO foo(name, n) VALUES(?, ?)",
		Parameters: []db.Parameter{{Value: "fiona"}, {Value: int64(20)}}}}
	for b.Loop() {
		resp, err := s.Execute(ctx, req)
		if err != nil || resp.Results[0].Error != "" {
			b.Fatalf("Execute = %+v, %v", resp, err)
		}
	}
}

func BenchmarkStore_QueryPoint(b *testing.B) {
	s := newBenchStore(b)
	ctx := context.Background()
	const rows = 1000
	var insert []string
	for i := range rows {
		insert = append(insert, fmt.Sprintf(`INSERT INTO foo(name, n) VALUES("name%d", %d)`, i, i))
	}
	insertReq := stmts(insert...)
	insertReq.Transaction = true
	if _, err := s.Execute(ctx, insertReq); err != nil {
		b.Fatal(err)
	}
	req := &Request{Level: LevelWeak}
	req.Statements = []db.Statement{{SQL: "SELECT id, name, n FROM foo WHERE id = ?", Parameters: []db.Parameter{{}}}}
	i := int64(0)
	for b.Loop() {
		i++
		req.Statements[0].Parameters[0].Value = i%rows + 1
		resp, err := s.Query(ctx, req)
		if err != nil || len(resp.Results[0].Values) != 1 {
			b.Fatalf("Query = %+v, %v", resp, err)
		}
	}
}

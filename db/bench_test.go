package db

import (
	"context"
	"testing"
)

// BenchmarkApply_Insert applies one single-row INSERT per entry, as the
// FSM would for a one-statement /db/execute.
func BenchmarkApply_Insert(b *testing.B) {
	d := newTestDB(b)
	exec(b, d, createFoo)
	ctx := context.Background()
	req := &Request{Statements: []Statement{{SQL: "INSERT INTO foo(name) VALUES(?)", Parameters: []Parameter{{Value: "fiona"}}}}}
	env := testEnv
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		env.Seed = uint64(i)
		res, err := d.Apply(ctx, req, ModeExecute, env)
		if err != nil || res[0].Error != "" {
			b.Fatalf("apply: %v %+v", err, res)
		}
	}
}

// BenchmarkQuery_Point selects one row by primary key from a 10,000-row
// table on the read pool.
func BenchmarkQuery_Point(b *testing.B) {
	d := newTestDB(b)
	exec(b, d, createFoo,
		"INSERT INTO foo(id, name) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 10000) SELECT n, 'name' || n FROM c")
	ctx := context.Background()
	req := &Request{Statements: []Statement{{SQL: "SELECT * FROM foo WHERE id = ?", Parameters: []Parameter{{}}}}}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req.Statements[0].Parameters[0].Value = int64(i%10000 + 1)
		res, err := d.Query(ctx, req)
		if err != nil || res[0].Error != "" || len(res[0].Values) != 1 {
			b.Fatalf("query: %v %+v", err, res)
		}
	}
}

package store

import (
	"context"
	"expvar"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
)

// TestStore_TrailingWithin: a WAL-size snapshot keeps only the newest
// entries that fit the byte budget, so a node that lags by more installs
// the snapshot instead of replaying megabytes of statements.
func TestStore_TrailingWithin(t *testing.T) {
	n := newTestStore(t, false)
	mustExecute(t, n.Store, "CREATE TABLE t (s TEXT)")
	payload := strings.Repeat("x", 1000)
	for range 10 {
		req := &Request{Request: db.Request{Statements: []db.Statement{
			{SQL: "INSERT INTO t VALUES(?)", Parameters: []db.Parameter{{Value: payload}}},
		}}}
		if _, err := n.Execute(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		budget uint64
		want   uint64
	}{
		{3500, 3},    // three 1 KB entries fit, a fourth does not
		{100, 1},     // at least one entry is kept
		{1 << 30, 0}, // everything fits: compared with the log length below
	}
	last, _ := n.logs.LastIndex()
	first, _ := n.logs.FirstIndex()
	for _, tt := range tests {
		want := tt.want
		if want == 0 {
			want = min(last-first+1, n.cfg.TrailingLogs)
		}
		if got := n.trailingWithin(tt.budget); got != want {
			t.Errorf("trailingWithin(%d) = %d, want %d", tt.budget, got, want)
		}
	}
}

// TestStore_WALSnapshotFollowsABurst: a burst of writes larger than
// SnapshotWALSize is snapshotted right after it is applied, not at the
// next SnapshotInterval tick (an hour here).
func TestStore_WALSnapshotFollowsABurst(t *testing.T) {
	n := newTestCluster(t, 1, false, func(c *Config) {
		c.SnapshotInterval = time.Hour
		c.SnapshotWALSize = 64 << 10
	})[0]
	before := counters().Get(numWALSnapshots).(*expvar.Int).Value()
	mustExecute(t, n.Store, "CREATE TABLE t (s TEXT)")
	payload := strings.Repeat("y", 20<<10)
	for range 10 {
		req := &Request{Request: db.Request{Statements: []db.Statement{
			{SQL: "INSERT INTO t VALUES(?)", Parameters: []db.Parameter{{Value: payload}}},
		}}}
		if _, err := n.Execute(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, waitTimeout, "a snapshot for WAL size", func() bool {
		return counters().Get(numWALSnapshots).(*expvar.Int).Value() > before
	})
}

package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// bigDatabase writes a SQLite file of about mb MiB of random blobs.
func bigDatabase(b *testing.B, mb int) string {
	return blobDatabase(b, mb*16, 65536)
}

// blobDatabase writes a SQLite file whose table big holds rows random
// blobs of size bytes each.
func blobDatabase(tb testing.TB, rows, size int) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "big.sqlite")
	d, err := db.Open(db.Config{Path: path})
	if err != nil {
		tb.Fatal(err)
	}
	defer d.Close()
	req := &db.Request{Statements: []db.Statement{
		{SQL: "CREATE TABLE big (id INTEGER PRIMARY KEY, data BLOB)"},
		{SQL: fmt.Sprintf(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < %d)
			INSERT INTO big(data) SELECT randomblob(%d) FROM c`, rows, size)},
	}}
	out, err := d.ApplyBatch(context.Background(), []db.Entry{{Items: []db.Item{{Req: req, Mode: db.ModeExecute, Env: db.Env{Seed: 1, Now: time.Now()}}}, At: db.Applied{Index: 1, Term: 1}}})
	if err != nil || out[0][0][1].Error != "" {
		tb.Fatalf("fill: %v %+v", err, out)
	}
	return path
}

// restartConfig is a single-node config with rdb's default Raft timings
// and its Raft log (raft-boltdb) in dir.
func restartConfig(b *testing.B, dir string) Config {
	c := testConfig(b, "node0")
	c.Dir = dir
	c.inmemRaft = false
	c.HeartbeatTimeout, c.ElectionTimeout = DefaultConfig().HeartbeatTimeout, DefaultConfig().ElectionTimeout
	c.LeaderLeaseTimeout = 0
	return c
}

// openUntilReady opens a store on c and waits until it leads and is
// Ready; it also returns how long Open itself took.
func openUntilReady(b *testing.B, c Config, addr raft.ServerAddress) (*Store, time.Duration) {
	b.Helper()
	_, tn := raft.NewInmemTransport(addr)
	s, err := New(c, tn)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := s.Open(context.Background()); err != nil {
		b.Fatal(err)
	}
	opened := time.Since(start)
	if has, _ := s.HasState(); !has {
		if err := s.Bootstrap(Server{ID: c.NodeID, Addr: string(addr), Voter: true}); err != nil {
			b.Fatal(err)
		}
	}
	waitFor(b, time.Minute, "ready leader", func() bool { return s.IsLeader() && s.Ready() })
	return s, opened
}

// BenchmarkStore_RestartTimeToReady restarts a single node on databases of
// 100 MiB and 1 GiB (loaded with Boot, so they are also in a snapshot)
// after some writes since that snapshot, and reports the time from Open to
// a ready leader (issue 4, acceptance 2), and the part of it spent in
// Open; the rest is the election (raft's randomized 1-2 s heartbeat
// timeout for a single node). Run with
//
//	go test -run '^$' -bench RestartTimeToReady -benchtime 3x ./store/
func BenchmarkStore_RestartTimeToReady(b *testing.B) {
	for _, mb := range []int{100, 1024} {
		b.Run(fmt.Sprintf("db=%dMiB", mb), func(b *testing.B) {
			src := bigDatabase(b, mb)
			dir, addr := b.TempDir(), raft.NewInmemAddr()
			c := restartConfig(b, dir)
			s, _ := openUntilReady(b, c, addr)
			if err := s.Boot(context.Background(), src); err != nil {
				b.Fatalf("Boot: %v", err)
			}
			os.Remove(src)
			for i := range 100 {
				mustExecute(b, s, fmt.Sprintf("INSERT INTO big(data) VALUES(randomblob(%d))", 100+i))
			}
			if err := s.Close(context.Background()); err != nil {
				b.Fatal(err)
			}
			var total, open time.Duration
			for b.Loop() {
				start := time.Now()
				s, opened := openUntilReady(b, c, addr)
				total += time.Since(start)
				open += opened
				if err := s.Close(context.Background()); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-ready")
			b.ReportMetric(float64(open.Microseconds())/1000/float64(b.N), "ms-in-Open")
		})
	}
}

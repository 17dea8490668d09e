package db

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// checksumBenchMB is the size of the database the checksum benchmarks
// digest: RDB_CHECKSUM_BENCH_MB, default 64 (issue 12 measured 1024).
func checksumBenchMB() int {
	if v, err := strconv.Atoi(os.Getenv("RDB_CHECKSUM_BENCH_MB")); err == nil && v > 0 {
		return v
	}
	return 64
}

// openBenchDB returns a database of about mb megabytes: rows of an
// integer key, an indexed integer, a short text and a 1,000-byte blob. It
// is built in the directory RDB_CHECKSUM_BENCH_DIR (kept, and reused by
// later runs) or else in a temporary one.
func openBenchDB(b *testing.B, mb int) *DB {
	b.Helper()
	dir := os.Getenv("RDB_CHECKSUM_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	cfg := DefaultConfig()
	cfg.Path = filepath.Join(dir, fmt.Sprintf("checksum-bench-%dmb.sqlite", mb))
	_, statErr := os.Stat(cfg.Path)
	d, err := Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	if statErr == nil {
		return d
	}
	exec(b, d, "CREATE TABLE big (id INTEGER PRIMARY KEY, n INTEGER, s TEXT, v BLOB)", "CREATE INDEX big_n ON big(n)")
	const rowsPerEntry = 20000
	rows := mb * 1000 // about 1 KB per row with its index entry
	for first := 0; first < rows; first += rowsPerEntry {
		q := fmt.Sprintf("INSERT INTO big(id, n, s, v) WITH RECURSIVE c(x) AS (SELECT %d UNION ALL SELECT x+1 FROM c WHERE x < %d) "+
			"SELECT x, random() %% 1000000, 'row ' || x, randomblob(1000) FROM c", first+1, min(first+rowsPerEntry, rows))
		item := Item{Req: &Request{Statements: stmts(q)}, Mode: ModeExecute, Env: Env{Seed: uint64(first), Now: testEnv.Now}}
		res, err := d.ApplyEntry(context.Background(), []Item{item}, Applied{Index: uint64(first/rowsPerEntry + 1), Term: 1})
		if err != nil || res[0][0].Error != "" {
			b.Fatalf("fill: %v %+v", err, res)
		}
	}
	if err := d.Checkpoint(context.Background()); err != nil {
		b.Fatal(err)
	}
	return d
}

func fileMB(b *testing.B, d *DB) float64 {
	fi, err := os.Stat(d.Path())
	if err != nil {
		b.Fatal(err)
	}
	wal, err := d.WALSize()
	if err != nil {
		b.Fatal(err)
	}
	return float64(fi.Size()+wal) / (1 << 20)
}

// BenchmarkDB_Checksum digests the whole database once per iteration.
func BenchmarkDB_Checksum(b *testing.B) {
	d := openBenchDB(b, checksumBenchMB())
	size := fileMB(b, d)
	b.ResetTimer()
	var last Checksum
	for range b.N {
		c, err := d.Checksum(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		last = c
	}
	b.ReportMetric(size, "file-MB")
	b.ReportMetric(size/(b.Elapsed().Seconds()/float64(b.N)), "MB/s")
	b.ReportMetric(float64(last.Rows), "rows")
}

// BenchmarkDB_ApplyDuringChecksum measures single-row write entries per
// second on the database alone ("idle") and while digests run back to
// back on a read connection ("digesting").
func BenchmarkDB_ApplyDuringChecksum(b *testing.B) {
	d := openBenchDB(b, checksumBenchMB())
	index := uint64(1 << 40)
	for _, digesting := range []bool{false, true} {
		name := map[bool]string{false: "idle", true: "digesting"}[digesting]
		b.Run(name, func(b *testing.B) {
			var stop atomic.Bool
			done := make(chan int)
			go func() {
				n := 0
				for digesting && !stop.Load() {
					if _, err := d.Checksum(context.Background()); err == nil {
						n++
					}
				}
				done <- n
			}()
			start := time.Now()
			for i := range b.N {
				index++
				q := fmt.Sprintf("INSERT INTO big(n, s, v) VALUES (%d, 'new', randomblob(1000))", i)
				item := Item{Req: &Request{Statements: stmts(q)}, Mode: ModeExecute, Env: testEnv}
				if _, err := d.ApplyEntry(context.Background(), []Item{item}, Applied{Index: index, Term: 1}); err != nil {
					b.Fatal(err)
				}
			}
			elapsed := time.Since(start)
			stop.Store(true)
			digests := <-done
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "writes/s")
			b.ReportMetric(float64(digests), "digests")
		})
	}
}

package store

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// dirSize is the total size of the regular files under dir.
func dirSize(b *testing.B, dir string) int64 {
	b.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		fi, err := e.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkStore_SnapshotAfterWrites measures a forced snapshot taken
// after 1,000 new rows on a 1 GiB database (issue 4, acceptance 3): its
// duration and the size of the snapshot it wrote, and the data
// directory's size relative to the database file (acceptance 6). Run with
//
//	go test -run '^$' -bench SnapshotAfterWrites -benchtime 2x ./store/
func BenchmarkStore_SnapshotAfterWrites(b *testing.B) {
	for _, mb := range []int{100, 1024} {
		b.Run(fmt.Sprintf("db=%dMiB", mb), func(b *testing.B) {
			src := bigDatabase(b, mb)
			dir := b.TempDir()
			s, _ := openUntilReady(b, restartConfig(b, dir), raft.NewInmemAddr())
			defer s.Close(context.Background())
			if err := s.Boot(context.Background(), src); err != nil {
				b.Fatalf("Boot: %v", err)
			}
			os.Remove(src)
			var took time.Duration
			var written int64
			for b.Loop() {
				for i := range 1000 {
					mustExecute(b, s, fmt.Sprintf("INSERT INTO big(data) VALUES(randomblob(%d))", 100+i%50))
				}
				start := time.Now()
				if err := s.Snapshot(0); err != nil {
					b.Fatalf("Snapshot: %v", err)
				}
				took += time.Since(start)
				metas, err := s.snaps.List()
				if err != nil || len(metas) == 0 {
					b.Fatalf("List: %v", err)
				}
				written += metas[0].Size
			}
			fi, err := os.Stat(filepath.Join(dir, sqliteName))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/snapshot")
			b.ReportMetric(float64(written)/float64(b.N)/(1<<20), "MiB-written/snapshot")
			b.ReportMetric(float64(dirSize(b, dir))/float64(fi.Size()), "datadir/dbfile")
		})
	}
}

// writeLatencies runs writes back to back for d and returns their
// latencies, sorted.
func writeLatencies(b *testing.B, s *Store, d time.Duration) []time.Duration {
	b.Helper()
	var out []time.Duration
	for end := time.Now().Add(d); time.Now().Before(end) && len(out) < 1_000_000; {
		start := time.Now()
		mustExecute(b, s, "INSERT INTO big(data) VALUES(randomblob(120))")
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out
}

func p99(ds []time.Duration) time.Duration { return ds[len(ds)*99/100] }

// BenchmarkStore_WriteLatencyDuringSnapshots compares the p99 latency of
// writes alone with writes while snapshots are taken every interval on a
// 1 GiB database (issue 4, acceptance 3). Run with
//
//	go test -run '^$' -bench WriteLatencyDuringSnapshots -benchtime 1x ./store/
func BenchmarkStore_WriteLatencyDuringSnapshots(b *testing.B) {
	src := bigDatabase(b, 1024)
	s, _ := openUntilReady(b, restartConfig(b, b.TempDir()), raft.NewInmemAddr())
	defer s.Close(context.Background())
	if err := s.Boot(context.Background(), src); err != nil {
		b.Fatalf("Boot: %v", err)
	}
	os.Remove(src)
	for _, every := range []time.Duration{100 * time.Millisecond, time.Second} {
		b.Run("every="+every.String(), func(b *testing.B) {
			for b.Loop() {
				quiet := writeLatencies(b, s, 3*time.Second)
				stop, done := make(chan struct{}), make(chan int)
				go snapshotEvery(s, every, stop, done)
				busy := writeLatencies(b, s, 3*time.Second)
				close(stop)
				snaps := <-done
				b.ReportMetric(float64(p99(quiet).Microseconds())/1000, "p99-ms-alone")
				b.ReportMetric(float64(p99(busy).Microseconds())/1000, "p99-ms-snapshotting")
				b.ReportMetric(float64(snaps), "snapshots")
			}
		})
	}
}

// snapshotEvery forces a snapshot every interval until stop, then sends
// how many succeeded on done.
func snapshotEvery(s *Store, every time.Duration, stop <-chan struct{}, done chan<- int) {
	n := 0
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			done <- n
			return
		case <-t.C:
		}
		if err := s.Snapshot(0); err == nil {
			n++
		}
	}
}

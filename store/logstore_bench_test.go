package store

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"
	wal "github.com/hashicorp/raft-wal"
	"github.com/hashicorp/raft-wal/metadb"
)

// BenchmarkLogStore appends batches of 100-byte entries to each Raft log
// store in a temp dir, one StoreLogs (and so one fsync) per op, as raft
// does for a batch of applies: boltdb (the previous store), raft-wal with
// rdb's segment size, and raft-wal with its default 64 MiB.
func BenchmarkLogStore(b *testing.B) {
	stores := []struct {
		name string
		open func(b *testing.B, dir string) raft.LogStore
	}{
		{"boltdb", openBenchBolt},
		{"wal", func(b *testing.B, dir string) raft.LogStore { return openBenchWAL(b, dir, walSegmentSize) }},
		{"wal-64MiB", func(b *testing.B, dir string) raft.LogStore { return openBenchWAL(b, dir, wal.DefaultSegmentSize) }},
	}
	for _, s := range stores {
		for _, batch := range []int{1, 64} {
			b.Run(fmt.Sprintf("%s/batch=%d", s.name, batch), func(b *testing.B) {
				benchStoreLogs(b, s.open(b, b.TempDir()), batch)
			})
		}
	}
}

// benchStoreLogs appends batch entries per op to logs.
func benchStoreLogs(b *testing.B, logs raft.LogStore, batch int) {
	data := make([]byte, 100)
	entries := make([]*raft.Log, batch)
	next := uint64(1)
	for b.Loop() {
		for i := range entries {
			entries[i] = &raft.Log{Index: next, Term: 1, Type: raft.LogCommand, Data: data, AppendedAt: time.Now()}
			next++
		}
		if err := logs.StoreLogs(entries); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "entries/s")
}

func openBenchBolt(b *testing.B, dir string) raft.LogStore {
	b.Helper()
	s, err := raftboltdb.NewBoltStore(filepath.Join(dir, raftDBName))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func openBenchWAL(b *testing.B, dir string, segmentSize int) raft.LogStore {
	b.Helper()
	meta := &metadb.BoltMetaDB{}
	w, err := wal.Open(dir, wal.WithMetaStore(meta), wal.WithSegmentSize(segmentSize), wal.WithLogger(hclog.NewNullLogger()))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close(); meta.Close() })
	return w
}

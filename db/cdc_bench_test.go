package db

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkApplyBatch_CDC measures applying batches of 64 single-row
// INSERT entries with capture off and on (sink discards).
func BenchmarkApplyBatch_CDC(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("cdc=%v", on), func(b *testing.B) {
			cfg := DefaultConfig()
			cfg.Path = filepath.Join(b.TempDir(), "db.sqlite")
			if on {
				cfg.Changes = func([]EntryChanges) {}
			}
			d, err := Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer d.Close()
			ctx := context.Background()
			if _, err := d.ApplyBatch(ctx, []Entry{entry(1, req("CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)"))}); err != nil {
				b.Fatal(err)
			}
			idx := uint64(1)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				es := make([]Entry, 64)
				for k := range es {
					idx++
					es[k] = Entry{Items: []Item{{Req: &Request{Statements: []Statement{{SQL: "INSERT INTO t(v, s) VALUES(?, ?)",
						Parameters: []Parameter{{Value: int64(k)}, {Value: "abcdefghijklmnopqrstuvwxyz012345"}}}}}, Mode: ModeExecute, Env: testEnv}},
						At: Applied{Index: idx, Term: 1}}
				}
				if _, err := d.ApplyBatch(ctx, es); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

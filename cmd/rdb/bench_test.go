package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// startBenchNode runs a whole node in-process on loopback ports chosen by
// the OS, with a real on-disk Raft log and SQLite file.
func startBenchNode(b *testing.B) string {
	b.Helper()
	cfg, err := parseServeFlags("rdb serve", []string{
		"-http-addr", "127.0.0.1:0", "-raft-addr", "127.0.0.1:0", "-raft-log-level", "ERROR", b.TempDir(),
	}, true, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	n, err := startNode(context.Background(), cfg, logger)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { n.Close(context.Background()) })
	base := "http://" + cfg.HTTPAddr // the bound address
	rdbtest.WaitFor(b, 20*time.Second, "node ready", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return base
}

func post(b *testing.B, url, body string) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(data), `"error"`) {
		b.Fatalf("POST %s %s: %d %s", url, body, resp.StatusCode, data)
	}
}

// BenchmarkWritePath measures one single-row INSERT per request through the
// whole stack: HTTP → Raft (fsync'd log) → SQLite.
func BenchmarkWritePath(b *testing.B) {
	base := startBenchNode(b)
	post(b, base+"/db/execute", `["CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)"]`)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		post(b, base+"/db/execute", fmt.Sprintf(`[["INSERT INTO t(v, s) VALUES(?, ?)", %d, "abcdefghijklmnopqrstuvwxyz012345"]]`, i))
	}
}

// BenchmarkWritePath_Parallel is the same with concurrent clients.
func BenchmarkWritePath_Parallel(b *testing.B) {
	base := startBenchNode(b)
	post(b, base+"/db/execute", `["CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)"]`)
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			post(b, base+"/db/execute", `[["INSERT INTO t(v, s) VALUES(?, ?)", 1, "abcdefghijklmnopqrstuvwxyz012345"]]`)
		}
	})
}

// BenchmarkPointQuery measures a primary-key SELECT on a 10,000-row table at
// the default (weak) level and at none.
func BenchmarkPointQuery(b *testing.B) {
	base := startBenchNode(b)
	post(b, base+"/db/execute", `["CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER, s TEXT)"]`)
	var sb strings.Builder
	sb.WriteString(`["WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 10000) INSERT INTO t(id, v, s) SELECT x, x, 'abcdefghijklmnopqrstuvwxyz012345' FROM c"]`)
	post(b, base+"/db/execute", sb.String())
	for _, level := range []string{"weak", "none", "linearizable"} {
		b.Run(level, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				post(b, base+"/db/query?level="+level, fmt.Sprintf(`[["SELECT * FROM t WHERE id = ?", %d]]`, i%10000+1))
			}
		})
	}
}

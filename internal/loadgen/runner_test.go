package loadgen

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func mustRun(t *testing.T, cfg Config) *Report {
	t.Helper()
	rep, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func TestRun_Write(t *testing.T) {
	f := newFakeServer(t)
	rep := mustRun(t, testConfig(f.URL))
	res := rep.Results[0]
	if res.Workload != "write" || res.OK != 40 || res.Errors != 0 || res.Requests != 40 || res.Rows != 40 {
		t.Fatalf("result = %+v, want 40 ok writes", res)
	}
	if res.StoppedBy != StopRequests {
		t.Errorf("stopped by %q, want %q", res.StoppedBy, StopRequests)
	}
	inserts := withSQL(f.requests("/db/execute"), "INSERT INTO rdb_bench(v, s)")
	if len(inserts) != 40 {
		t.Fatalf("got %d INSERT requests, want 40", len(inserts))
	}
	for _, r := range inserts {
		if len(r.stmts) != 1 {
			t.Fatalf("write request has %d statements, want 1", len(r.stmts))
		}
	}
	if n := len(withSQL(f.requests("/db/execute"), "CREATE TABLE IF NOT EXISTS rdb_bench")); n != 1 {
		t.Errorf("%d CREATE TABLE requests, want 1", n)
	}
	if n := len(withSQL(f.requests("/db/execute"), "DROP TABLE IF EXISTS rdb_bench")); n != 1 {
		t.Errorf("%d DROP TABLE requests, want 1", n)
	}
	if n := len(withSQL(f.requests("/db/execute"), "WITH RECURSIVE")); n != 0 {
		t.Errorf("a write-only run preloaded rows (%d requests)", n)
	}
}

func TestRun_Bulk(t *testing.T) {
	f := newFakeServer(t)
	cfg := testConfig(f.URL)
	cfg.Workloads = []Workload{{Kind: KindBulk}}
	cfg.Batch, cfg.Requests = 7, 10
	res := mustRun(t, cfg).Results[0]
	if res.OK != 10 || res.Rows != 70 {
		t.Fatalf("result = %+v, want 10 ok requests, 70 rows", res)
	}
	if res.RowsPerS < 6.9*res.OpsPerS || res.RowsPerS > 7.1*res.OpsPerS {
		t.Errorf("rows/s %v, want 7 x ops/s %v", res.RowsPerS, res.OpsPerS)
	}
	for _, r := range withSQL(f.requests("/db/execute"), "INSERT") {
		if len(r.stmts) != 7 {
			t.Fatalf("bulk request has %d statements, want 7", len(r.stmts))
		}
	}
}

func TestRun_Bulk_ShortReply(t *testing.T) {
	f := newFakeServer(t)
	f.handleFn = func(r request) (int, string) {
		if len(withSQL([]request{r}, "INSERT")) == 1 {
			return http.StatusOK, `{"results":[{"rows_affected":1}]}`
		}
		return 0, ""
	}
	cfg := testConfig(f.URL)
	cfg.Workloads = []Workload{{Kind: KindBulk}}
	rep, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrAllFailed) {
		t.Fatalf("err = %v, want ErrAllFailed", err)
	}
	if res := rep.Results[0]; res.Errors != 40 || !strings.Contains(res.ErrorSamples[0], "1 results for 5 statements") {
		t.Fatalf("result = %+v, want 40 errors about missing results", res)
	}
}

func TestRun_ReadLevels(t *testing.T) {
	for _, level := range Levels {
		t.Run(level, func(t *testing.T) {
			f := newFakeServer(t)
			cfg := testConfig(f.URL)
			cfg.Workloads = []Workload{{Kind: KindRead, Level: level}}
			res := mustRun(t, cfg).Results[0]
			if res.Workload != "read-"+level || res.OK != 40 || res.Level != level {
				t.Fatalf("result = %+v, want 40 ok reads at %s", res, level)
			}
			reads := withSQL(f.requests("/db/query"), "SELECT id, v, s FROM rdb_bench WHERE id = ?")
			if len(reads) != 40 {
				t.Fatalf("%d point SELECTs, want 40", len(reads))
			}
			for _, r := range reads {
				if r.level != level {
					t.Fatalf("read at level %q, want %q", r.level, level)
				}
			}
			if n := len(withSQL(f.requests("/db/execute"), "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 100)")); n != 1 {
				t.Errorf("%d preload requests of rows 1-100, want 1", n)
			}
		})
	}
}

func TestRun_Read_MissingRow(t *testing.T) {
	f := newFakeServer(t)
	f.handleFn = func(r request) (int, string) {
		if len(withSQL([]request{r}, "SELECT id")) == 1 {
			return http.StatusOK, `{"results":[{"columns":["id"],"types":["integer"]}]}`
		}
		return 0, ""
	}
	cfg := testConfig(f.URL)
	cfg.Workloads = []Workload{{Kind: KindRead, Level: "none"}}
	rep, err := Run(context.Background(), cfg)
	if !errors.Is(err, ErrAllFailed) || rep.Results[0].Errors != 40 {
		t.Fatalf("err = %v, result %+v; want 40 errors", err, rep.Results[0])
	}
}

func TestRun_Mixed(t *testing.T) {
	tests := []struct {
		name             string
		ratio            float64
		minReads, maxRds int
	}{
		{"only writes", 0, 0, 0},
		{"only reads", 1, 200, 200},
		{"half", 0.5, 60, 140},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t)
			cfg := testConfig(f.URL)
			cfg.Workloads = []Workload{{Kind: KindMixed, Level: "strong"}}
			cfg.Requests, cfg.ReadRatio = 200, tt.ratio
			res := mustRun(t, cfg).Results[0]
			reads := len(withSQL(f.requests("/db/query"), "SELECT id"))
			writes := len(withSQL(f.requests("/db/execute"), "INSERT"))
			if res.OK != 200 || reads+writes != 200 || reads < tt.minReads || reads > tt.maxRds {
				t.Fatalf("ok %d, reads %d, writes %d; want 200 requests with %d-%d reads", res.OK, reads, writes, tt.minReads, tt.maxRds)
			}
		})
	}
}

func TestRun_Errors(t *testing.T) {
	tests := []struct {
		name   string
		answer func(n int64) (int, string)
		sample string
	}{
		{"statement error", func(int64) (int, string) {
			return http.StatusOK, `{"results":[{"error":"UNIQUE constraint failed: rdb_bench.id"}]}`
		}, "UNIQUE constraint failed"},
		{"top-level error", func(int64) (int, string) {
			return http.StatusOK, `{"error":"leader not found"}`
		}, "leader not found"},
		{"HTTP status", func(int64) (int, string) {
			return http.StatusServiceUnavailable, `{"error":"leader not found"}`
		}, "status 503: leader not found"},
		{"not JSON", func(int64) (int, string) {
			return http.StatusOK, `<html>`
		}, ErrNotRqlite.Error()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t)
			var inserts atomic.Int64
			f.handleFn = func(r request) (int, string) {
				if len(withSQL([]request{r}, "INSERT")) == 1 && inserts.Add(1)%2 == 0 {
					return tt.answer(inserts.Load())
				}
				return 0, ""
			}
			res := mustRun(t, testConfig(f.URL)).Results[0]
			if res.OK != 20 || res.Errors != 20 || res.Requests != 40 {
				t.Fatalf("result = %+v, want 20 ok and 20 errors", res)
			}
			if len(res.ErrorSamples) != 1 || !strings.Contains(res.ErrorSamples[0], tt.sample) {
				t.Fatalf("samples = %q, want one containing %q", res.ErrorSamples, tt.sample)
			}
		})
	}
}

func TestRun_AllFailed(t *testing.T) {
	f := newFakeServer(t)
	f.handleFn = func(r request) (int, string) {
		if len(withSQL([]request{r}, "INSERT")) == 1 {
			return http.StatusInternalServerError, "boom"
		}
		return 0, ""
	}
	rep, err := Run(context.Background(), testConfig(f.URL))
	if !errors.Is(err, ErrAllFailed) {
		t.Fatalf("err = %v, want ErrAllFailed", err)
	}
	if rep == nil || rep.Results[0].Errors != 40 {
		t.Fatalf("report = %+v, want 40 errors", rep)
	}
}

func TestRun_Duration(t *testing.T) {
	f := newFakeServer(t)
	cfg := testConfig(f.URL)
	cfg.Requests, cfg.Duration = MaxRequests, 200*time.Millisecond
	t0 := time.Now()
	res := mustRun(t, cfg).Results[0]
	if res.StoppedBy != StopDuration || res.OK == 0 || res.OK >= MaxRequests {
		t.Fatalf("result = %+v, want some requests, stopped by duration", res)
	}
	if d := time.Since(t0); d > 10*time.Second {
		t.Fatalf("run took %s for a 200ms bound", d)
	}
}

func TestRun_RoundRobin(t *testing.T) {
	a, b := newFakeServer(t), newFakeServer(t)
	mustRun(t, testConfig(a.URL, b.URL+"/"))
	na, nb := len(withSQL(a.requests("/db/execute"), "INSERT")), len(withSQL(b.requests("/db/execute"), "INSERT"))
	if na != 20 || nb != 20 {
		t.Fatalf("writes per URL = %d, %d; want 20, 20", na, nb)
	}
	for _, f := range []*fakeServer{a, b} {
		if n := len(withSQL(f.requests("/db/query"), "SELECT 1")); n != 1 {
			t.Errorf("%s probed %d times, want 1", f.URL, n)
		}
	}
}

func TestRun_Keep(t *testing.T) {
	f := newFakeServer(t)
	cfg := testConfig(f.URL)
	cfg.Keep, cfg.Table = true, "t2"
	mustRun(t, cfg)
	if n := len(withSQL(f.requests("/db/execute"), "DROP")); n != 0 {
		t.Fatalf("%d DROP requests with Keep, want 0", n)
	}
	if n := len(withSQL(f.requests("/db/execute"), "INSERT INTO t2(")); n != 40 {
		t.Fatalf("%d INSERTs into t2, want 40", n)
	}
}

func TestRun_BasicAuth(t *testing.T) {
	f := newFakeServer(t)
	cfg := testConfig(f.URL)
	cfg.User, cfg.Password = "bob", "s3cret"
	mustRun(t, cfg)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte("bob:s3cret"))
	for _, r := range f.requests("/db/execute") {
		if r.auth != want {
			t.Fatalf("Authorization = %q, want %q", r.auth, want)
		}
	}
}

func TestRun_Interrupt(t *testing.T) {
	f := newFakeServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var inserts atomic.Int64
	f.handleFn = func(r request) (int, string) {
		if len(withSQL([]request{r}, "INSERT")) == 1 && inserts.Add(1) == 10 {
			cancel()
		}
		return 0, ""
	}
	cfg := testConfig(f.URL)
	cfg.Requests = MaxRequests
	cfg.Workloads = []Workload{{Kind: KindWrite}, {Kind: KindBulk}}
	rep, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !rep.Interrupted || len(rep.Results) != 1 || rep.Results[0].StoppedBy != StopInterrupt {
		t.Fatalf("report = %+v, want one interrupted workload", rep)
	}
	if res := rep.Results[0]; res.Errors != 0 || res.OK == 0 || res.OK != res.Requests {
		t.Errorf("result = %+v, want no errors from the interrupt", res)
	}
	if n := len(withSQL(f.requests("/db/execute"), "DROP")); n != 1 {
		t.Errorf("%d DROP requests after an interrupt, want 1", n)
	}
}

func TestRun_Unreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = Run(context.Background(), testConfig("http://"+addr))
	if !errors.Is(err, ErrUnreachable) || !strings.HasPrefix(err.Error(), "http://"+addr+": unreachable") {
		t.Fatalf("err = %v, want %s: unreachable", err, addr)
	}
}

func TestRun_NotRqlite(t *testing.T) {
	tests := []struct {
		name string
		code int
		body string
	}{
		{"404 page", http.StatusNotFound, "<html><body>404 page not found</body></html>"},
		{"200 page", http.StatusOK, "<html>hello</html>"},
		{"JSON without results", http.StatusOK, `{"status":"ok"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t)
			f.handleFn = func(request) (int, string) { return tt.code, tt.body }
			_, err := Run(context.Background(), testConfig(f.URL))
			if !errors.Is(err, ErrNotRqlite) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("err = %v, want one line with ErrNotRqlite", err)
			}
			if n := len(f.requests("/db/execute")); n != 0 {
				t.Errorf("%d execute requests after a failed probe, want 0", n)
			}
		})
	}
}

func TestRun_WaitsForPreload(t *testing.T) {
	f := newFakeServer(t)
	var counts atomic.Int64
	f.handleFn = func(r request) (int, string) {
		if len(withSQL([]request{r}, "SELECT COUNT(*)")) == 1 && counts.Add(1) < 3 {
			return http.StatusOK, `{"results":[{"columns":["c"],"values":[[7]]}]}`
		}
		return 0, ""
	}
	cfg := testConfig(f.URL)
	cfg.Workloads = []Workload{{Kind: KindRead, Level: "none"}}
	mustRun(t, cfg)
	if n := counts.Load(); n != 3 {
		t.Fatalf("%d COUNT requests, want 3 (two short, one complete)", n)
	}
}

func TestRun_InvalidConfig(t *testing.T) {
	cfg := testConfig("http://127.0.0.1:1")
	cfg.Concurrency = 0
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "concurrency") {
		t.Fatalf("err = %v, want a concurrency error", err)
	}
}

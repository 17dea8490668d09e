package loadgen

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	cfg := DefaultConfig()
	cfg.URLs = []string{"http://bob:s3cret@a:4001", "http://b:4001"}
	r := newReport(cfg)
	r.Results = []Result{
		{Workload: "write", Kind: KindWrite, Requests: 100, OK: 98, Errors: 2, ErrorSamples: []string{"leader not found"},
			Rows: 98, ElapsedS: 1.5, StoppedBy: StopRequests, OpsPerS: 65.333, RowsPerS: 65.333,
			LatencyMs: Latency{Mean: 12.5, P50: 10, P90: 20, P99: 30, Max: 40}},
		{Workload: "read-linearizable", Kind: KindRead, Level: "linearizable", Requests: 10, OK: 10, Rows: 10,
			ElapsedS: 0.25, StoppedBy: StopDuration, OpsPerS: 40, RowsPerS: 40},
	}
	return r
}

func TestReport_WriteJSON(t *testing.T) {
	var b strings.Builder
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(b.String()), &top); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	wantTop := []string{"batch", "concurrency", "max_duration_s", "max_requests", "read_ratio", "results", "rows", "started", "table", "urls"}
	if got := keys(top); !reflect.DeepEqual(got, wantTop) {
		t.Errorf("top-level keys = %v, want %v", got, wantTop)
	}
	var results []map[string]json.RawMessage
	json.Unmarshal(top["results"], &results)
	wantRes := []string{"elapsed_s", "error_samples", "errors", "kind", "latency_ms", "ok", "ops_per_s", "requests", "rows", "rows_per_s", "stopped_by", "workload"}
	if len(results) != 2 || !reflect.DeepEqual(keys(results[0]), wantRes) {
		t.Fatalf("result keys = %v, want %v", keys(results[0]), wantRes)
	}
	var lat map[string]float64
	json.Unmarshal(results[0]["latency_ms"], &lat)
	if want := map[string]float64{"mean": 12.5, "p50": 10, "p90": 20, "p99": 30, "max": 40}; !reflect.DeepEqual(lat, want) {
		t.Errorf("latency_ms = %v, want %v", lat, want)
	}
	if strings.Contains(b.String(), "s3cret") {
		t.Errorf("the JSON shows a password:\n%s", b.String())
	}
}

func keys(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func TestReport_WriteTable(t *testing.T) {
	var b strings.Builder
	if err := sampleReport().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	want := []string{
		"http://bob:xxxxx@a:4001, http://b:4001: 16 clients, each workload up to 10000 requests or 30s; latency in ms",
		"",
		"workload           ok  errors   time  ops/s  rows/s   mean    p50    p90    p99    max",
		"write              98       2  1.50s   65.3    65.3  12.50  10.00  20.00  30.00  40.00",
		"read-linearizable  10       0  0.25s   40.0    40.0   0.00   0.00   0.00   0.00   0.00",
		"write error: leader not found",
		"",
	}
	lines := strings.Split(got, "\n")
	for i := range lines {
		lines[i] = strings.TrimLeft(lines[i], " ")
	}
	if !reflect.DeepEqual(lines, want) {
		t.Fatalf("table:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if !strings.Contains(got, "\n  workload ") {
		t.Errorf("columns not aligned as expected:\n%s", got)
	}
}

func TestReport_WriteTable_Interrupted(t *testing.T) {
	r := sampleReport()
	r.Interrupted = true
	var b strings.Builder
	r.WriteTable(&b)
	if !strings.HasSuffix(b.String(), "interrupted: the last workload ran short\n") {
		t.Fatalf("no interrupt note:\n%s", b.String())
	}
}

func TestProgress(t *testing.T) {
	var buf syncBuffer
	var c counters
	c.ok.Store(42)
	c.errs.Store(3)
	stop := startProgress(&buf, time.Millisecond, "read-weak", &c)
	waitFor(t, 5*time.Second, "a progress line", func() bool {
		return strings.Contains(buf.String(), "\rread-weak  ")
	})
	stop()
	out := buf.String()
	if !strings.Contains(out, "42 ok  3 errors") {
		t.Errorf("progress %q lacks the counts", out)
	}
	last := out[strings.LastIndex(out[:len(out)-1], "\r"):]
	if strings.TrimSpace(last) != "" || !strings.HasSuffix(out, "\r") {
		t.Errorf("progress not blanked at the end: %q", out)
	}
	if strings.Contains(out, "\n") {
		t.Errorf("progress wrote a newline: %q", out)
	}
}

func TestProgress_Nil(t *testing.T) {
	var c counters
	startProgress(nil, time.Millisecond, "write", &c)() // must neither block nor panic
}

func TestRun_Progress(t *testing.T) {
	f := newFakeServer(t)
	var buf syncBuffer
	cfg := testConfig(f.URL)
	cfg.Progress, cfg.ProgressInterval = &buf, time.Millisecond
	cfg.Duration, cfg.Requests = 100*time.Millisecond, MaxRequests
	mustRun(t, cfg)
	if !strings.Contains(buf.String(), "\rwrite  ") {
		t.Fatalf("no progress line in %q", buf.String())
	}
}

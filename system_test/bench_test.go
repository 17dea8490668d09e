package system_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// benchReport is the part of `rdb bench --json` the tests read.
type benchReport struct {
	URLs    []string `json:"urls"`
	Results []struct {
		Workload  string   `json:"workload"`
		Requests  int      `json:"requests"`
		OK        int      `json:"ok"`
		Errors    int      `json:"errors"`
		Samples   []string `json:"error_samples"`
		Rows      int      `json:"rows"`
		OpsPerS   float64  `json:"ops_per_s"`
		StoppedBy string   `json:"stopped_by"`
		LatencyMs struct {
			P50 float64 `json:"p50"`
			Max float64 `json:"max"`
		} `json:"latency_ms"`
	} `json:"results"`
}

// runBench runs `rdb bench --json` against nodes with args and returns
// its report; it fails the test unless the exit status is 0.
func runBench(t *testing.T, nodes []*Node, args ...string) benchReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	urls := make([]string, len(nodes))
	for i, n := range nodes {
		urls[i] = "http://" + n.HTTPAddr
	}
	cmd := exec.CommandContext(ctx, rdbBin, append([]string{"bench", "--json", "-u", strings.Join(urls, ",")}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rdb bench: %v\nstderr: %s\nstdout: %s", err, stderr.String(), stdout.String())
	}
	if stderr.Len() != 0 || strings.Contains(stdout.String(), "\r") {
		t.Errorf("progress or messages without a terminal: stderr %q", stderr.String())
	}
	var rep benchReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("rdb bench output is not JSON: %v\n%s", err, stdout.String())
	}
	return rep
}

// checkBench fails unless rep has the workloads named, each with want
// successful requests and no error.
func checkBench(t *testing.T, rep benchReport, want int, workloads ...string) {
	t.Helper()
	if len(rep.Results) != len(workloads) {
		t.Fatalf("%d results, want %d: %+v", len(rep.Results), len(workloads), rep.Results)
	}
	for i, r := range rep.Results {
		if r.Workload != workloads[i] || r.OK != want || r.Errors != 0 || r.OpsPerS <= 0 || r.LatencyMs.Max < r.LatencyMs.P50 {
			t.Errorf("result %d = %+v, want %s with %d ok requests and no errors", i, r, workloads[i], want)
		}
	}
}

func TestBenchCommand_SingleNode(t *testing.T) {
	n := StartNode(t)
	workloads := []string{"write", "bulk", "read-none", "read-weak", "read-linearizable", "read-strong", "mixed-weak"}
	rep := runBench(t, []*Node{n}, "-w", "all", "-n", "100", "-c", "4", "--batch", "20", "--rows", "50")
	checkBench(t, rep, 100, workloads...)
	if bulk := rep.Results[1]; bulk.Rows != 2000 {
		t.Errorf("bulk wrote %d rows, want 2000", bulk.Rows)
	}
	v, err := queryValues(n, "SELECT name FROM sqlite_master WHERE name = 'rdb_bench'", "strong")
	if err != nil || len(v) != 0 {
		t.Fatalf("table rdb_bench after the run: %v, %v; want it dropped", v, err)
	}
}

func TestBenchCommand_ThreeNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	rep := runBench(t, nodes, "-w", "write,read-none,read-linearizable", "-n", "90", "-c", "6", "--rows", "30", "--table", "b3", "--keep")
	checkBench(t, rep, 90, "write", "read-none", "read-linearizable")
	if len(rep.URLs) != 3 {
		t.Errorf("report URLs = %v, want 3", rep.URLs)
	}
	// 30 preloaded rows plus 90 written, on every node.
	for _, n := range nodes {
		waitCount(t, n, "b3", 120, readyTimeout)
	}
}

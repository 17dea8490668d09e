package system_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
)

var rssMB = flag.Int("bench.rss", 0, "run the snapshot-install memory benchmark with a database of this many MiB (e.g. 500)")

// TestBench_JoinInstallRSS is a benchmark, not a CI test (it runs only with
// -bench.rss=N): a node joins a cluster whose log was truncated, so it
// receives a snapshot of an N MiB database; the test reports the joiner's
// peak RSS and checks it ends up with the leader's data (issue 4,
// acceptance 4).
func TestBench_JoinInstallRSS(t *testing.T) {
	if *rssMB == 0 {
		t.Skip("benchmark: run with -bench.rss=500")
	}
	src := filepath.Join(t.TempDir(), "big.sqlite")
	rows := makeBigDatabase(t, src, *rssMB)
	leader := StartNode(t)
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(context.Background(), "POST", "http://"+leader.HTTPAddr+"/boot", f)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := (&http.Client{}).Do(req)
	f.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("boot: %v %v", resp, err)
	}
	resp.Body.Close()
	t.Logf("booted %d MiB in %v", *rssMB, time.Since(start).Round(time.Millisecond))

	joiner := newNode(t)
	joiner.Args = append(joiner.Args, "-join", leader.RaftAddr)
	start = time.Now()
	joiner.Start()
	joiner.WaitReady(5 * time.Minute)
	waitUntil(t, 5*time.Minute, "the joiner to hold every row", func() (bool, string) {
		n, err := countAt(joiner, "big", "none")
		return err == nil && n == rows, fmt.Sprintf("%d rows, %v", n, err)
	})
	t.Logf("joiner caught up in %v; peak RSS %d MiB (leader %d MiB)", time.Since(start).Round(time.Millisecond),
		hwmKiB(t, joiner)>>10, hwmKiB(t, leader)>>10)
}

// makeBigDatabase writes a SQLite file of about mb MiB and returns its row
// count.
func makeBigDatabase(t *testing.T, path string, mb int) int {
	t.Helper()
	d, err := db.Open(db.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	rows := mb * 16
	req := &db.Request{Statements: []db.Statement{
		{SQL: "CREATE TABLE big (id INTEGER PRIMARY KEY, data BLOB)"},
		{SQL: fmt.Sprintf(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i < %d)
			INSERT INTO big(data) SELECT randomblob(65536) FROM c`, rows)},
	}}
	out, err := d.ApplyBatch(context.Background(), []db.Entry{{
		Items: []db.Item{{Req: req, Mode: db.ModeExecute, Env: db.Env{Seed: 1, Now: time.Now()}}},
		At:    db.Applied{Index: 1, Term: 1},
	}})
	if err != nil || out[0][0][1].Error != "" {
		t.Fatalf("fill: %v %+v", err, out)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// hwmKiB is the process's VmHWM in KiB, from /proc.
func hwmKiB(t *testing.T, n *Node) int {
	t.Helper()
	pid := n.Pid()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

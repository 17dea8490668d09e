package system_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// count returns SELECT COUNT(*) FROM foo at level=none.
func count(t *testing.T, n *Node) int {
	t.Helper()
	body := n.Query("SELECT COUNT(*) FROM foo", "level=none")
	var r struct {
		Results []struct {
			Values [][]int `json:"values"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil || len(r.Results) != 1 || len(r.Results[0].Values) != 1 {
		t.Fatalf("unexpected count response %q: %v", body, err)
	}
	return r.Results[0].Values[0][0]
}

func insertRows(t *testing.T, n *Node, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		n.Execute("/db/execute", fmt.Sprintf(`[["INSERT INTO foo(id, name) VALUES(?, ?)", %d, "name-%d"]]`, i, i))
	}
}

// TestRestart_KeepsData stops a node with SIGTERM and starts it again on the
// same directory (issue 2, acceptance 4).
func TestRestart_KeepsData(t *testing.T) {
	n := StartNode(t)
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)"]`)
	insertRows(t, n, 0, 20)
	n.Restart()
	if got := count(t, n); got != 20 {
		t.Fatalf("after restart: got %d rows, want 20", got)
	}
	insertRows(t, n, 20, 25)
	if got := count(t, n); got != 25 {
		t.Fatalf("after restart and more writes: got %d rows, want 25", got)
	}
	if !strings.Contains(n.Logs(), "existing Raft state found") {
		t.Fatalf("restart did not reuse the node's state; logs:\n%s", n.Logs())
	}
}

// TestRestart_AfterSnapshot makes the node snapshot and truncate its log
// (small -raft-snap), then restarts it: the data comes back from the
// snapshot plus the log tail.
func TestRestart_AfterSnapshot(t *testing.T) {
	n := StartNode(t, "-raft-snap", "10", "-raft-snap-int", "200ms")
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)"]`)
	insertRows(t, n, 0, 40)
	waitFor(t, 15*time.Second, "a snapshot", func() bool { return snapshotIndex(t, n) > 0 })
	insertRows(t, n, 40, 45)
	n.Restart()
	if got := count(t, n); got != 45 {
		t.Fatalf("after snapshot and restart: got %d rows, want 45", got)
	}
	body := n.Query("SELECT name FROM foo WHERE id = 44", "level=strong")
	if want := `{"results":[{"columns":["name"],"types":["text"],"values":[["name-44"]]}]}`; body != want {
		t.Fatalf("got %s, want %s", body, want)
	}
}

// snapshotIndex reads store.raft.last_snapshot_index from /status.
func snapshotIndex(t *testing.T, n *Node) float64 {
	t.Helper()
	code, body, err := n.Do("GET", "/status?key=store.raft", "", "")
	if err != nil || code != 200 {
		return 0
	}
	var raft map[string]any
	if err := json.Unmarshal([]byte(body), &raft); err != nil {
		t.Fatalf("decode /status?key=store.raft %q: %v", body, err)
	}
	v, _ := raft["last_snapshot_index"].(float64)
	return v
}

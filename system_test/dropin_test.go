package system_test

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestNonVoter_RestartWithoutJoin stops a -raft-non-voter node and starts it
// again on the same directory with the same flags minus -join, as
// supervisors do: it finds its cluster from its Raft state and catches up
// with the rows written while it was down (issue 10, point 1).
func TestNonVoter_RestartWithoutJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	nodes := startClusterFlags(t, [][]string{fastRaft, append(slices.Clone(fastRaft), "-raft-non-voter")})
	leader, nv := nodes[0], nodes[1]
	leader.Execute("/db/execute", fooSchema)
	insertRows(t, leader, 0, 10)
	waitCount(t, nv, "foo", 10, readyTimeout)

	nv.Stop()
	insertRows(t, leader, 10, 25)
	nv.Args = withoutFlag(nv.Args, "-join")
	nv.Start()
	nv.WaitReady(readyTimeout)
	waitCount(t, nv, "foo", 25, readyTimeout)
	checkNonVoter(t, leader, nodes[:1], nv)
}

// TestNonVoter_FreshWithoutJoin checks that a non-voter without Raft state
// and without -join still refuses to start: it has no cluster to find.
func TestNonVoter_FreshWithoutJoin(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	n := newNode(t, "-raft-non-voter")
	n.Start()
	waitFor(t, readyTimeout, "a fresh non-voter without -join to exit", n.Exited)
	if want := "must be given -join"; !strings.Contains(n.Logs(), want) {
		t.Fatalf("logs do not contain %q:\n%s", want, n.Logs())
	}
}

// withoutFlag returns args without flag and its value.
func withoutFlag(args []string, flag string) []string {
	out := make([]string, 0, len(args))
	for i := 0; i < len(args); i++ {
		if args[i] == flag {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// TestShell_PipedFailureExitStatus pipes a failing statement into the
// `rdb shell` process: as rqlite's shell, it prints `Error:` on stdout,
// goes on and exits 0; with -bail it stops there and exits 1 (issue 10,
// point 2).
func TestShell_PipedFailureExitStatus(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	n := StartNode(t)
	_, port, _ := net.SplitHostPort(n.HTTPAddr)
	tests := []struct {
		name      string
		flags     []string
		wantCode  int
		wantAfter bool // the statement after the failure ran
	}{
		{"default goes on", nil, 0, true},
		{"bail stops", []string{"-bail"}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"shell", "-H", "127.0.0.1", "--port", port}, tt.flags...)
			cmd := exec.Command(rdbBin, args...)
			cmd.Stdin = strings.NewReader("SELECT COUNT(*) FROM nosuch;\nSELECT 'ran-after-the-failure';\n")
			out, err := cmd.Output()
			code := 0
			if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatalf("run shell: %v", err)
			}
			if code != tt.wantCode || !strings.Contains(string(out), "Error: no such table: nosuch") ||
				strings.Contains(string(out), "ran-after-the-failure") != tt.wantAfter {
				t.Errorf("exit %d, output:\n%s\nwant exit %d, `Error:`, next statement run %v", code, out, tt.wantCode, tt.wantAfter)
			}
		})
	}
}

// TestStatus_ReadOnlyPragmas checks /status's store.sqlite3.pragmas: the
// read-only connections report rqlite's values (API.md §1.7), the write
// connection rdb's own (issue 10, point 3).
func TestStatus_ReadOnlyPragmas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, fk := range []bool{false, true} {
		var flags []string
		if fk {
			flags = []string{"-fk"}
		}
		n := StartNode(t, flags...)
		code, body, err := n.Do("GET", "/status?key=store.sqlite3.pragmas", "", "")
		if err != nil || code != http.StatusOK {
			t.Fatalf("GET /status: %d %v", code, err)
		}
		var got map[string]map[string]string
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatalf("decode %s: %v", body, err)
		}
		wantFK := map[bool]string{false: "0", true: "1"}[fk]
		want := map[string]map[string]string{
			"ro": {"busy_timeout": "5000", "foreign_keys": wantFK, "journal_mode": "wal", "synchronous": "0", "wal_autocheckpoint": "1000"},
			"rw": {"busy_timeout": "5000", "foreign_keys": wantFK, "journal_mode": "wal", "synchronous": "1", "wal_autocheckpoint": "0"},
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("-fk=%v: pragmas %v, want %v", fk, got, want)
		}
	}
}

// TestShell_ListsOnlyUserTables runs `rdb shell .tables .schema .indexes`
// against a node with data: rdb's bookkeeping table, which every node's
// database holds, is not listed (issue 10, point 4).
func TestShell_ListsOnlyUserTables(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	n := StartNode(t)
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY)", "CREATE INDEX foo_id ON foo(id)", "INSERT INTO foo VALUES(1)"]`)
	_, port, _ := net.SplitHostPort(n.HTTPAddr)
	out, err := exec.Command(rdbBin, "shell", "-H", "127.0.0.1", "--port", port, ".tables", ".schema", ".indexes").Output()
	want := "+------+\n| name |\n+------+\n| foo  |\n+------+\n" +
		"+-------------------------------------------+\n| sql                                       |\n+-------------------------------------------+\n" +
		"| CREATE TABLE foo (id INTEGER PRIMARY KEY) |\n| CREATE INDEX foo_id ON foo(id)            |\n+-------------------------------------------+\n" +
		"+--------------------------------+\n| sql                            |\n+--------------------------------+\n" +
		"| CREATE INDEX foo_id ON foo(id) |\n+--------------------------------+\n"
	if err != nil || string(out) != want {
		t.Errorf("shell: %v, output:\n%s\nwant:\n%s", err, out, want)
	}
}

package system_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rdb/rdb/internal/rdbtest"
)

const (
	fooSchema = `["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT)"]`
	fooSelect = "SELECT * FROM foo ORDER BY id"
	fooRows   = `{"results":[{"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"],[2,"declan"],[3,"aoife"]]}]}`
)

// servedBy is the X-RQLITE-SERVED-BY value API.md §1.6 requires for a
// request to n: its own HTTP address when it serves the request, the
// leader's Raft address when it forwards it.
func servedBy(n, leader *Node, local bool) string {
	if local || n == leader {
		return n.HTTPAddr
	}
	return leader.RaftAddr
}

// TestCluster_ForwardingAndReadLevels starts three processes, writes
// through a follower and reads the rows back from every node at every
// level (issue 3, acceptance 1).
func TestCluster_ForwardingAndReadLevels(t *testing.T) {
	nodes := startCluster(t, 3)
	leader := waitLeader(t, nodes, readyTimeout)
	followers := others(nodes, leader)

	writes := []struct {
		via  *Node
		body string
		want string
	}{
		{followers[0], fooSchema, `{"results":[{}]}`},
		{followers[0], `["INSERT INTO foo(id, name) VALUES(1, \"fiona\")"]`, `{"results":[{"last_insert_id":1,"rows_affected":1}]}`},
		{leader, `[["INSERT INTO foo(id, name) VALUES(?, ?)", 2, "declan"]]`, `{"results":[{"last_insert_id":2,"rows_affected":1}]}`},
		{followers[1], `[["INSERT INTO foo(id, name) VALUES(:id, :name)", {"id": 3, "name": "aoife"}]]`, `{"results":[{"last_insert_id":3,"rows_affected":1}]}`},
	}
	for _, w := range writes {
		code, h, body, err := w.via.DoHeader("POST", "/db/execute", "application/json", w.body)
		if err != nil || code != http.StatusOK || body != w.want {
			t.Fatalf("POST /db/execute %s via %s: got %d %q %v, want 200 %q", w.body, w.via.ID(), code, body, err, w.want)
		}
		if got, want := h.Get("X-Rqlite-Served-By"), servedBy(w.via, leader, false); got != want {
			t.Errorf("write via %s: X-RQLITE-SERVED-BY %q, want %q", w.via.ID(), got, want)
		}
	}
	for _, n := range nodes {
		waitUntil(t, readyTimeout, "the rows to replicate to "+n.ID(), func() (bool, string) {
			code, body, err := n.Do("GET", "/db/query?level=none&q="+urlEscape(fooSelect), "", "")
			return err == nil && code == http.StatusOK && body == fooRows, fmt.Sprintf("%d %s %v", code, body, err)
		})
	}
	for _, n := range nodes {
		checkReadLevels(t, n, leader)
	}
	for _, n := range followers {
		checkRedirect(t, n, leader)
	}
	for _, n := range nodes {
		checkNodes(t, n, nodes, leader)
	}
}

// checkReadLevels reads fooRows from n at every level, by GET and POST,
// and checks the body byte for byte and who served it.
func checkReadLevels(t *testing.T, n, leader *Node) {
	t.Helper()
	levels := []struct {
		level string
		local bool // served by n itself even if it is a follower
	}{
		{"none", true}, {"weak", false}, {"linearizable", false}, {"strong", false},
		{"auto", false}, // auto on a voter is weak
		{"", false},     // default is weak
	}
	for _, l := range levels {
		for _, method := range []string{"GET", "POST"} {
			name := fmt.Sprintf("%s/%s/level=%s", n.ID(), method, l.level)
			t.Run(name, func(t *testing.T) {
				path, body := "/db/query?level="+l.level, ""
				if method == "GET" {
					path += "&q=" + urlEscape(fooSelect)
				} else {
					body = `["` + fooSelect + `"]`
				}
				code, h, got, err := n.DoHeader(method, path, "application/json", body)
				if err != nil || code != http.StatusOK || got != fooRows {
					t.Fatalf("%s %s: got %d %q %v, want 200 %q", method, path, code, got, err, fooRows)
				}
				if got, want := h.Get("X-Rqlite-Served-By"), servedBy(n, leader, l.local); got != want {
					t.Errorf("X-RQLITE-SERVED-BY %q, want %q", got, want)
				}
			})
		}
	}
}

// checkRedirect asks follower n for redirects and expects a 301 to the
// same path and query on the leader, with nothing executed.
func checkRedirect(t *testing.T, n, leader *Node) {
	t.Helper()
	tests := []struct {
		method, path, body string
	}{
		{"GET", "/db/query?q=" + urlEscape(fooSelect) + "&level=strong&redirect", ""},
		{"POST", "/db/query?redirect&pretty", `["SELECT 1"]`},
		{"POST", "/db/execute?redirect", `["INSERT INTO foo(id, name) VALUES(4, \"nobody\")"]`},
	}
	for _, tt := range tests {
		code, h, body, err := n.DoHeader(tt.method, tt.path, "application/json", tt.body)
		if err != nil || code != http.StatusMovedPermanently {
			t.Errorf("%s %s on follower %s: got %d %q %v, want 301", tt.method, tt.path, n.ID(), code, body, err)
			continue
		}
		if got, want := h.Get("Location"), "http://"+leader.HTTPAddr+tt.path; got != want {
			t.Errorf("%s %s on follower %s: Location %q, want %q", tt.method, tt.path, n.ID(), got, want)
		}
	}
	if got, err := countAt(leader, "foo", "strong"); err != nil || got != 3 {
		t.Errorf("after redirected insert: %d rows (%v), want 3: the redirect executed the write", got, err)
	}
}

// checkNodes checks /nodes?ver=2 on n: every node, reachable, with its
// addresses, and exactly one leader.
func checkNodes(t *testing.T, n *Node, nodes []*Node, leader *Node) {
	t.Helper()
	got, err := nodesV2(n, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(nodes) {
		t.Fatalf("/nodes?ver=2 on %s: %d nodes, want %d: %+v", n.ID(), len(got), len(nodes), got)
	}
	want := ids(nodes...)
	leaders := 0
	for i, g := range got {
		m := byID(nodes, g.ID)
		if g.ID != want[i] || m == nil {
			t.Fatalf("/nodes?ver=2 on %s: ids %+v, want %v sorted", n.ID(), got, want)
		}
		if !g.Reachable || !g.Voter || g.Error != "" || g.Addr != m.RaftAddr || g.APIAddr != "http://"+m.HTTPAddr {
			t.Errorf("/nodes?ver=2 on %s: entry %+v, want reachable voter at %s / http://%s", n.ID(), g, m.RaftAddr, m.HTTPAddr)
		}
		if g.Leader {
			leaders++
			if g.ID != leader.ID() {
				t.Errorf("/nodes?ver=2 on %s: leader %s, want %s", n.ID(), g.ID, leader.ID())
			}
		}
	}
	if leaders != 1 {
		t.Errorf("/nodes?ver=2 on %s: %d leaders, want exactly 1: %+v", n.ID(), leaders, got)
	}
}

func byID(nodes []*Node, id string) *Node {
	for _, n := range nodes {
		if n.ID() == id {
			return n
		}
	}
	return nil
}

// TestCluster_BootstrapExpect starts three nodes at once with
// -bootstrap-expect 3 and each other's addresses, five times over: each
// time they must form exactly one cluster (issue 3, acceptance 2).
func TestCluster_BootstrapExpect(t *testing.T) {
	for round := range 5 {
		t.Run(fmt.Sprintf("round-%d", round+1), func(t *testing.T) {
			nodes := make([]*Node, 3)
			for i := range nodes {
				// Each node is given all Raft addresses at once, so
				// they are chosen before the nodes start.
				nodes[i] = newNode(t)
				nodes[i].RaftAddr = rdbtest.UnusedAddr(t)
			}
			t.Cleanup(func() { stopAll(nodes) })
			var join []string
			for _, n := range nodes {
				join = append(join, n.RaftAddr)
			}
			for _, n := range nodes {
				n.Args = append(n.Args, "-bootstrap-expect", "3", "-join", strings.Join(join, ","))
				n.Start()
			}
			for _, n := range nodes {
				n.WaitReady(readyTimeout)
			}
			leader := waitLeader(t, nodes, readyTimeout)
			for _, n := range nodes {
				waitMembers(t, n, ids(nodes...))
				checkNodes(t, n, nodes, leader)
			}
			// One cluster means one database: a write through any node
			// reaches every node.
			nodes[round%3].Execute("/db/execute", fooSchema)
			nodes[(round+1)%3].Execute("/db/execute", `["INSERT INTO foo(id, name) VALUES(1, \"fiona\")"]`)
			for _, n := range nodes {
				waitCount(t, n, "foo", 1, readyTimeout)
			}
		})
	}
}

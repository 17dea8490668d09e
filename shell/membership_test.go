package shell

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/client"
)

// leaderID asks a node which node leads.
func leaderID(t *testing.T, addr string) string {
	t.Helper()
	c, err := client.New(client.Config{Addrs: []string{addr}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	nodes, err := c.Nodes(context.Background(), true)
	if err != nil {
		return ""
	}
	for _, n := range nodes {
		if n.Leader {
			return n.ID
		}
	}
	return ""
}

func TestShell_StepdownRemove_RealCluster(t *testing.T) {
	n1 := startNode(t, "")
	n2 := startNode(t, n1.RaftAddr)
	n3 := startNode(t, n1.RaftAddr)
	if got := leaderID(t, n1.HTTPAddr); got != n1.RaftAddr {
		t.Fatalf("leader %q, want %q", got, n1.RaftAddr)
	}
	if out, code := runShell(t, ".stepdown "+n2.RaftAddr+"\n", n3.HTTPAddr); code != 0 || body(t, out) != "" {
		t.Fatalf(".stepdown: exit %d\n%s", code, out)
	}
	waitFor(t, 10*time.Second, "leadership to move to n2", func() bool { return leaderID(t, n2.HTTPAddr) == n2.RaftAddr })

	n3.Stop()
	if out, code := runShell(t, ".remove "+n3.RaftAddr+"\n", n1.HTTPAddr); code != 0 || body(t, out) != "" {
		t.Fatalf(".remove: exit %d\n%s", code, out)
	}
	out, _ := runShell(t, ".nodes all\n", n1.HTTPAddr)
	if got := body(t, out); strings.Contains(got, n3.RaftAddr) || !strings.Contains(got, n2.RaftAddr+":\n") {
		t.Errorf(".nodes after .remove still lists %s or lacks %s:\n%s", n3.RaftAddr, n2.RaftAddr, got)
	}
}

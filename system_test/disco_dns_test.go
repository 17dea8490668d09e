package system_test

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/rdb/rdb/internal/rdbtest"
)

// TestDisco_DNS starts three voters at once with -disco-mode dns and
// -bootstrap-expect 3, their peers given by RQLITE_DISCO_DNS_HOSTS as in
// rqlite's e2e test (the config's name is never resolved): they must form
// one cluster and agree on the leader; then a -raft-non-voter with the
// same discovery joins as a read-only replica (issue 13, acceptance 1).
func TestDisco_DNS(t *testing.T) {
	key := discoKey()
	flags := []string{"-disco-mode", "dns", "-disco-key", key, "-disco-config", `{"name":"rqlite.cluster"}`}
	nodes := make([]*Node, 3)
	var addrs []string
	for i := range nodes {
		nodes[i] = newNode(t, append(slices.Clone(flags), "-bootstrap-expect", "3")...)
		nodes[i].RaftAddr = rdbtest.UnusedAddr(t)
		addrs = append(addrs, nodes[i].RaftAddr)
	}
	t.Cleanup(func() { stopAll(nodes) })
	hosts := "RQLITE_DISCO_DNS_HOSTS=" + strings.Join(addrs, ",")
	for _, n := range nodes {
		n.Env = []string{hosts}
		n.Start()
	}
	checkFormed(t, nodes)
	for _, n := range nodes {
		d, err := statusSection(n, "disco")
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ := strings.Cut(n.RaftAddr, "127.0.0.1:")
		if d["mode"] != "dns" || d["name"] != "rqlite.cluster" || fmt.Sprint(d["port"]) != port ||
			fmt.Sprint(d["last_addresses"]) != fmt.Sprint(addrs) {
			t.Errorf("/status disco of %s = %v, want mode dns, name rqlite.cluster, port %s, last_addresses %v", n.ID(), d, port, addrs)
		}
		if _, ok := d["last_contact"]; ok {
			t.Errorf("/status disco of %s has last_contact though no DNS query was made: %v", n.ID(), d)
		}
	}

	nv := newNode(t, append(slices.Clone(flags), "-raft-non-voter", "-bootstrap-expect", "0")...)
	nv.Env = []string{hosts}
	nv.Start()
	checkReadOnlyJoined(t, nodes, nv)

	// A voter whose data is lost comes back empty with the same ID and
	// address (a Kubernetes pod whose volume was replaced): discovery
	// joins it again and it gets the data from the leader.
	leader := waitLeader(t, nodes, readyTimeout)
	lost := others(nodes, leader)[0]
	lost.Kill()
	if err := os.RemoveAll(lost.Dir); err != nil {
		t.Fatal(err)
	}
	lost.Start()
	lost.WaitReady(readyTimeout)
	waitCount(t, lost, "foo", 1, readyTimeout)
	waitMembers(t, leader, ids(append(slices.Clone(nodes), nv)...))
}

// TestDisco_DNSSRV is TestDisco_DNS with -disco-mode dns-srv, the SRV and
// A records served by a DNS server in the test.
func TestDisco_DNSSRV(t *testing.T) {
	dns := startDNSServer(t, "rdb", "rdb.test")
	cfg := fmt.Sprintf(`{"name":"rdb.test","service":"rdb","resolver":%q}`, dns.Addr())
	flags := []string{"-disco-mode", "dns-srv", "-disco-key", discoKey(), "-disco-config", cfg}
	nodes := make([]*Node, 3)
	for i := range nodes {
		nodes[i] = newNode(t, append(slices.Clone(flags), "-bootstrap-expect", "3")...)
		nodes[i].RaftAddr = rdbtest.UnusedAddr(t)
		_, p, _ := strings.Cut(nodes[i].RaftAddr, "127.0.0.1:")
		port, err := strconv.Atoi(p)
		if err != nil {
			t.Fatalf("raft address %s: %v", nodes[i].RaftAddr, err)
		}
		dns.add(fmt.Sprintf("n%d.rdb.test", i), uint16(port))
	}
	t.Cleanup(func() { stopAll(nodes) })
	for _, n := range nodes {
		n.Start()
	}
	checkFormed(t, nodes)
	d, err := statusSection(nodes[0], "disco")
	if err != nil {
		t.Fatal(err)
	}
	if d["mode"] != "dns-srv" || d["name"] != "rdb.test" || d["service"] != "rdb" || d["dns_name:"] != "_rdb._tcp.rdb.test" {
		t.Errorf("/status disco = %v, want mode dns-srv, name rdb.test, service rdb, dns_name: _rdb._tcp.rdb.test", d)
	}
	if _, ok := d["last_contact"]; !ok {
		t.Errorf("/status disco has no last_contact after DNS answers: %v", d)
	}

	nv := newNode(t, append(slices.Clone(flags), "-raft-non-voter")...)
	nv.Start()
	checkReadOnlyJoined(t, nodes, nv)
}

// checkFormed waits until nodes are ready, agree on a leader among them,
// and each one's configuration lists exactly them; then checks a write
// reaches all.
func checkFormed(t *testing.T, nodes []*Node) *Node {
	t.Helper()
	for _, n := range nodes {
		n.WaitReady(readyTimeout)
	}
	leader := waitLeader(t, nodes, readyTimeout)
	for _, n := range nodes {
		waitMembers(t, n, ids(nodes...))
	}
	leader.Execute("/db/execute", fooSchema)
	nodes[len(nodes)-1].Execute("/db/execute", `["INSERT INTO foo(id, name) VALUES(1, \"fiona\")"]`)
	for _, n := range nodes {
		waitCount(t, n, "foo", 1, readyTimeout)
	}
	return leader
}

// checkReadOnlyJoined waits until nv is ready, reports itself as a
// non-voter, is a Nonvoter in the voters' configuration, and has the
// cluster's data.
func checkReadOnlyJoined(t *testing.T, voters []*Node, nv *Node) {
	t.Helper()
	nv.WaitReady(readyTimeout)
	if v, err := isVoter(nv); err != nil || v {
		t.Fatalf("non-voter %s: store.raft.voter = %v (%v), want false", nv.ID(), v, err)
	}
	waitMembers(t, voters[0], ids(append(slices.Clone(voters), nv)...))
	s, err := voters[0].Status()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range s.Nodes {
		if m.ID == nv.ID() && m.Suffrage != "Nonvoter" {
			t.Errorf("%s has suffrage %s in the configuration, want Nonvoter", nv.ID(), m.Suffrage)
		}
	}
	waitCount(t, nv, "foo", 1, readyTimeout)
}

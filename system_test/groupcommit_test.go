package system_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// poisonRequests fail on every node, each in its own way: a statement
// error, a transaction request whose second statement fails (its first
// must be rolled back), and ON CONFLICT ROLLBACK, which makes SQLite roll
// back the whole transaction the entry shares with others. Rows they
// could leave behind have a negative writer.
var poisonRequests = []string{
	`["INSERT INTO nosuch VALUES(1)"]`,
	`[["INSERT INTO load(uid, writer) VALUES(?, -1)", -1], "INSERT INTO nosuch VALUES(1)"]`,
	`["INSERT OR ROLLBACK INTO load(seq, uid, writer) VALUES(1, -2, -2)"]`,
}

// poison sends poisonRequests round-robin through nodes until stop, at
// most maxWritesPerWriter times, counting those that came back with the
// expected statement error.
func poison(nodes []*Node, stop <-chan struct{}, failed *atomic.Int64, wg *sync.WaitGroup) {
	defer wg.Done()
	for i := range maxWritesPerWriter {
		select {
		case <-stop:
			return
		default:
		}
		path := "/db/execute"
		if i%len(poisonRequests) == 1 {
			path += "?transaction"
		}
		code, body, err := nodes[i%len(nodes)].Do("POST", path, "application/json", poisonRequests[i%len(poisonRequests)])
		if err == nil && code == 200 && strings.Contains(body, `"error"`) {
			failed.Add(1)
		}
	}
}

// TestFailover_ManyWritersWithFailingRequests: 32 writers and 4 clients,
// all through the followers,
// sending requests that fail share the leader's batches (group commit);
// the leader is killed -9 mid-run. Every acknowledged write is on every
// node exactly once, and nothing a failing request wrote survives
// (issue 9, acceptance 2).
func TestFailover_ManyWritersWithFailingRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	nodes := startCluster(t, 3, fastRaft...)
	leader := waitLeader(t, nodes, readyTimeout)
	leader.Execute("/db/execute", `["`+loadTable+`"]`)
	leader.Execute("/db/execute", `[["INSERT INTO load(uid, writer) VALUES(0, 0)"]]`) // seq 1, for ON CONFLICT ROLLBACK
	survivors := others(nodes, leader)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var poisoned atomic.Int64
	for range 4 {
		wg.Add(1)
		go poison(survivors, stop, &poisoned, &wg)
	}
	defer func() { close(stop); wg.Wait() }()

	l, _ := killLeaderUnderLoad(t, leader, survivors, 32, 300)
	close(stop)
	wg.Wait()
	stop = make(chan struct{}) // for the deferred close

	acked := l.acked()
	acked = append(acked, 0)
	checkAckedPresent(t, survivors, acked)
	if n := poisoned.Load(); n < 10 {
		t.Errorf("only %d failing requests came back with their error, want many", n)
	}
	for _, n := range survivors {
		v, err := queryValues(n, "SELECT COUNT(*) FROM load WHERE writer < 0", "none")
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(v[0][0]); got != "0" {
			t.Errorf("%s holds %s rows written by failing requests", n.ID(), got)
		}
	}
	t.Logf("%d acknowledged writes, %d failing requests answered with their error", len(acked), poisoned.Load())
}

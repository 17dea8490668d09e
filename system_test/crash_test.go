package system_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var (
	crashCycles = flag.Int("crash.cycles", 0, "kill -9 cycles per crash test (0: 8 single-node and 50 cluster)")
	crashSeed   = flag.Uint64("crash.seed", 0, "seed of the crash tests' random choices (0: from the clock)")
)

// crashSnapFlags make the node snapshot and truncate its log often, so
// kills also land during and after snapshots.
var crashSnapFlags = []string{"-raft-snap", "64", "-raft-snap-int", "200ms"}

// crashRand returns the test's random source, logging its seed so a
// failure can be replayed with -crash.seed.
func crashRand(t *testing.T) *rand.Rand {
	t.Helper()
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("crash seed %d (rerun with -crash.seed=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, seed))
}

func cycles(def int) int {
	if *crashCycles > 0 {
		return *crashCycles
	}
	return def
}

// TestCrash_SingleNode kills a single node with SIGKILL at random moments
// under concurrent writes and restarts it: every acknowledged write must be
// there, once (issue 4, acceptance 1).
func TestCrash_SingleNode(t *testing.T) {
	n := StartNode(t, crashSnapFlags...)
	n.Execute("/db/execute", `["`+loadTable+`"]`)
	runCrashCycles(t, []*Node{n}, cycles(8))
}

// TestCrash_Cluster kills a random member (leader or follower) of a
// three-node cluster at random moments under concurrent writes through
// every node, a third of the time in the middle of a snapshot or reap:
// every node must restart each time (issue 10: 50 cycles, about a minute
// on two cores; -crash.cycles changes the count).
func TestCrash_Cluster(t *testing.T) {
	flags := append(slices.Clone(fastRaft), crashSnapFlags...)
	nodes := startCluster(t, 3, flags...)
	waitLeader(t, nodes, readyTimeout).Execute("/db/execute", `["`+loadTable+`"]`)
	runCrashCycles(t, nodes, cycles(50))
}

// runCrashCycles runs n kill/restart cycles. Each cycle starts writers
// through every node, lets a random number of writes be acknowledged,
// kills a random node, restarts it, stops the writers and checks every
// node: all writes acknowledged so far present, none twice, and all nodes
// identical at the same applied index.
func runCrashCycles(t *testing.T, nodes []*Node, n int) {
	t.Helper()
	rng := crashRand(t)
	var acked []int
	skipped, restored := 0, 0
	for c := range n {
		start := time.Now()
		l := startLoadFrom(t, nodes, 4, 5*time.Second, time.Minute, c*maxWritesPerWriter*4)
		l.waitAcks(t, start, 1+rng.IntN(25), 30*time.Second)
		victim := nodes[rng.IntN(len(nodes))]
		switch rng.IntN(3) {
		case 0:
			// A node lives too briefly between kills for the snapshot
			// timer to fire reliably: force one, so that kills also land
			// right after (or during) a snapshot.
			forceSnapshot(t, victim)
			l.waitAcks(t, time.Now(), rng.IntN(10), 30*time.Second)
			victim.Kill()
		case 1:
			killDuringSnapshot(t, victim, rng)
		default:
			victim.Kill()
		}
		victim.Start()
		victim.WaitReady(readyTimeout)
		skipped += debugVar(t, victim, "store", "num_restores_start_skipped")
		restored += debugVar(t, victim, "store", "num_restores_start")
		l.stopLoad()
		acked = append(acked, l.acked()...)
		slices.Sort(acked)
		checkReplicas(t, nodes, acked)
		t.Logf("cycle %d: killed %s; %d writes acknowledged in total; restart: %d skipped, %d restored",
			c, victim.ID(), len(acked), skipped, restored)
	}
	t.Logf("restarts: %d skipped the snapshot restore (database file reused), %d restored a snapshot", skipped, restored)
	if skipped == 0 {
		t.Errorf("no restart skipped the snapshot restore: the database file was not reused")
	}
}

// killDuringSnapshot asks victim for a snapshot or a reap and kills it
// while the snapshot store changes its directory (issue 10): as soon as a
// temporary, garbage or new-base directory shows, or after a random number
// of looks, or when the request is answered.
func killDuringSnapshot(t *testing.T, victim *Node, rng *rand.Rand) {
	t.Helper()
	path := []string{"/snapshot", "/reap"}[rng.IntN(2)]
	answered := make(chan struct{})
	go func() {
		defer close(answered)
		victim.Do("POST", path, "", "")
	}()
	dir := filepath.Join(victim.Dir, "raft", "snapshots")
	looks := rng.IntN(2000)
	for i := 0; i < looks && !snapshotChanging(dir); i++ {
		select {
		case <-answered:
			i = looks
		default:
		}
	}
	victim.Kill()
	<-answered
}

// snapshotChanging reports whether the snapshot store in dir is in the
// middle of a change.
func snapshotChanging(dir string) bool {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "tmp-") || strings.HasPrefix(n, "gc-") || n == "base.new" {
			return true
		}
	}
	return false
}

// startLoadFrom is startLoad with uids starting after first, so loads of
// successive cycles never reuse a uid.
func startLoadFrom(t *testing.T, targets []*Node, writers int, timeout, maxRun time.Duration, first int) *load {
	t.Helper()
	l := &load{stop: make(chan struct{}), timeout: timeout, attempts: make([][]attempt, writers),
		client: &http.Client{CheckRedirect: client.CheckRedirect}}
	l.nextUID.Store(int64(first))
	deadline := time.Now().Add(maxRun)
	for w := range writers {
		l.wg.Add(1)
		go l.run(w, targets[w%len(targets)], deadline)
	}
	t.Cleanup(l.stopLoad)
	return l
}

// checkReplicas waits until every node reports the same applied index in
// its database and holds the same rows, then checks that those rows
// include every acknowledged write exactly once.
func checkReplicas(t *testing.T, nodes []*Node, acked []int) {
	t.Helper()
	var rows []int
	waitUntil(t, readyTimeout, "replicas identical at the same applied index", func() (bool, string) {
		var index []any
		for i, n := range nodes {
			v, err := queryValues(n, "SELECT raft_index FROM _rdb_applied", "none")
			if err != nil || len(v) != 1 {
				return false, fmt.Sprintf("applied index of %s: %v %v", n.ID(), v, err)
			}
			u, err := uids(n)
			if err != nil {
				return false, err.Error()
			}
			if i == 0 {
				index, rows = v[0], u
				continue
			}
			if !slices.Equal(v[0], index) || !slices.Equal(u, rows) {
				return false, fmt.Sprintf("%s at %v with %d rows, %s at %v with %d rows",
					nodes[0].ID(), index, len(rows), n.ID(), v[0], len(u))
			}
		}
		return true, ""
	})
	if m := missingFrom(rows, acked); len(m) > 0 {
		t.Fatalf("%d acknowledged writes lost, e.g. %v", len(m), m[:min(10, len(m))])
	}
	if d := duplicates(rows); len(d) > 0 {
		t.Fatalf("writes applied more than once: %v", d[:min(10, len(d))])
	}
}

// forceSnapshot asks n for a snapshot: 200, or 204 if there was nothing
// new to snapshot.
func forceSnapshot(t *testing.T, n *Node) {
	t.Helper()
	code, body, err := n.Do("POST", "/snapshot", "", "")
	if err != nil || (code != http.StatusOK && code != http.StatusNoContent) {
		t.Fatalf("POST /snapshot on %s: %d %q %v", n.ID(), code, body, err)
	}
}

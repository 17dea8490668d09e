package system_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// faultRaft are the Raft settings of a fault cluster: quick elections,
// and snapshots (with log truncation, and installs on nodes that fell
// behind) many times a run.
var faultRaft = []string{
	"-raft-heartbeat-timeout", "500ms", "-raft-election-timeout", "500ms",
	"-raft-apply-timeout", "5s",
	"-raft-snap", "128", "-raft-snap-int", "500ms",
}

// faultCluster is a cluster of real rdb processes whose Raft traffic goes
// through netFaults, with processes that can be killed, paused, restarted,
// removed and added again.
type faultCluster struct {
	t     *testing.T
	bin   string
	nodes []*Node
	net   *netFaults
	proxy []*nodeProxy

	mu      sync.Mutex
	targets []string // each node's real Raft bind address
	paused  []bool
	removed []bool // removed from the configuration, process stopped
}

// startFaultCluster starts size nodes of bin (node i with env(i), if
// env is set, and extra flags) behind proxies; node 0 bootstraps, the others join through the
// proxies. It returns once all are members and ready.
func startFaultCluster(t *testing.T, bin string, size int, seed uint64, env func(i int) []string, extra ...string) *faultCluster {
	t.Helper()
	if !procNetAvailable() {
		t.Skip("fault tests need Linux /proc/net/tcp to tell which node opened a connection")
	}
	fc := &faultCluster{t: t, bin: bin, nodes: make([]*Node, size), targets: make([]string, size),
		paused: make([]bool, size), removed: make([]bool, size)}
	fc.net = newNetFaults(seed, fc.pids)
	t.Cleanup(fc.close)
	for i := range size {
		p, err := fc.net.listen(i, func() string { return fc.target(i) })
		if err != nil {
			t.Fatal(err)
		}
		fc.proxy = append(fc.proxy, p)
		args := append([]string{"-raft-adv-addr", p.Addr()}, faultRaft...)
		fc.nodes[i] = rdbtest.NewNode(t, bin, append(args, extra...)...)
		if env != nil {
			fc.nodes[i].Env = env(i)
		}
	}
	fc.nodes[0].Start()
	fc.nodes[0].WaitReady(readyTimeout)
	fc.setTarget(0)
	for i, n := range fc.nodes[1:] {
		n.Args = append(n.Args, "-join", fc.proxy[0].Addr())
		n.Start()
		fc.setTarget(i + 1)
	}
	for _, n := range fc.nodes[1:] {
		n.WaitReady(readyTimeout)
		// Restarts rejoin from their Raft state.
		n.Args = n.Args[:len(n.Args)-2]
	}
	waitMembers(t, fc.nodes[0], ids(fc.nodes...))
	return fc
}

func (fc *faultCluster) setTarget(i int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.targets[i] = fc.nodes[i].RaftAddr
}

func (fc *faultCluster) target(i int) string {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.targets[i]
}

func (fc *faultCluster) pids() []int {
	out := make([]int, len(fc.nodes))
	for i, n := range fc.nodes {
		out[i] = n.Pid()
	}
	return out
}

// close resumes paused nodes (a stopped process ignores SIGTERM) and
// drops the network; t.Cleanup of each node stops it.
func (fc *faultCluster) close() {
	for i := range fc.nodes {
		fc.resume(i)
	}
	fc.net.heal()
	fc.net.close()
}

// all is the index of every node.
func (fc *faultCluster) all() []int {
	out := make([]int, len(fc.nodes))
	for i := range out {
		out[i] = i
	}
	return out
}

// pause stops node i with SIGSTOP.
func (fc *faultCluster) pause(i int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if pid := fc.nodes[i].Pid(); pid != 0 && !fc.paused[i] {
		syscall.Kill(pid, syscall.SIGSTOP)
		fc.paused[i] = true
	}
}

// resume continues node i after pause.
func (fc *faultCluster) resume(i int) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if pid := fc.nodes[i].Pid(); pid != 0 && fc.paused[i] {
		syscall.Kill(pid, syscall.SIGCONT)
	}
	fc.paused[i] = false
}

// kill sends SIGKILL to node i.
func (fc *faultCluster) kill(i int) {
	fc.resume(i)
	fc.nodes[i].Kill()
}

// gracefulStopLimit is how long terminate waits after SIGTERM: a node
// gives its own shutdown 30s, so a node still running after that hangs.
const gracefulStopLimit = 40 * time.Second

// terminate stops node i with SIGTERM and returns how long it took. A
// node that outlives gracefulStopLimit fails the test and is killed.
func (fc *faultCluster) terminate(i int) time.Duration {
	fc.resume(i)
	n := fc.nodes[i]
	pid := n.Pid()
	if pid == 0 {
		return 0
	}
	start := time.Now()
	syscall.Kill(pid, syscall.SIGTERM)
	for !n.Exited() && time.Since(start) < gracefulStopLimit {
		time.Sleep(20 * time.Millisecond)
	}
	d := time.Since(start)
	if !n.Exited() {
		fc.t.Errorf("node %d (%s) still running %s after SIGTERM", i, n.ID(), d)
	}
	n.Kill()
	return d
}

// start starts node i if it is down and waits until it is ready. A node
// that does not get ready fails the test but not at once: the suite goes
// on to heal, check and write its artifacts.
func (fc *faultCluster) start(i int) {
	fc.t.Helper()
	n := fc.nodes[i]
	if n.Running() {
		return
	}
	n.Start()
	fc.waitReady(i, 2*readyTimeout)
}

// waitReady polls node i's /readyz for up to d; see start.
func (fc *faultCluster) waitReady(i int, d time.Duration) bool {
	fc.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if fc.nodes[i].Exited() {
			fc.t.Errorf("node %d (%s) exited during start-up", i, fc.nodes[i].ID())
			return false
		}
		if resp, err := statusClient.Get("http://" + fc.nodes[i].HTTPAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	fc.t.Errorf("node %d (%s) not ready %s after it started", i, fc.nodes[i].ID(), d)
	fc.dumpStacks()
	return false
}

// dumpStacks makes every running node print its goroutines (SIGQUIT: the
// Go runtime writes them to stderr, which the node's log keeps, and
// exits), so a stuck cluster can be diagnosed from the artifacts.
// healAll starts the nodes again.
func (fc *faultCluster) dumpStacks() {
	for i, n := range fc.nodes {
		fc.resume(i)
		if pid := n.Pid(); pid != 0 {
			syscall.Kill(pid, syscall.SIGQUIT)
		}
	}
	for _, n := range fc.nodes {
		for deadline := time.Now().Add(10 * time.Second); n.Running() && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
		n.Kill()
	}
}

// live is whether node i runs and is not paused or removed.
func (fc *faultCluster) live(i int) bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return !fc.paused[i] && !fc.removed[i] && fc.nodes[i].Running()
}

// statusClient gives up quickly: a paused or partitioned node must not
// stall the nemesis.
var statusClient = &http.Client{Timeout: 2 * time.Second}

// status fetches /status?key=store of node i with a short timeout.
func (fc *faultCluster) status(i int) (rdbtest.StoreStatus, error) {
	var s rdbtest.StoreStatus
	resp, err := statusClient.Get("http://" + fc.nodes[i].HTTPAddr + "/status?key=store")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return s, err
	}
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("status %d: %s", resp.StatusCode, b)
	}
	return s, json.Unmarshal(b, &s)
}

// leader returns the node that the live nodes see as leader and that
// says it leads, or -1.
func (fc *faultCluster) leader() int {
	for i := range fc.nodes {
		if !fc.live(i) {
			continue
		}
		s, err := fc.status(i)
		if err == nil && s.Raft.State == "Leader" {
			return i
		}
	}
	return -1
}

// waitLeader waits up to d for a leader; -1 if none.
func (fc *faultCluster) waitLeader(d time.Duration) int {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if l := fc.leader(); l >= 0 {
			return l
		}
		time.Sleep(50 * time.Millisecond)
	}
	return -1
}

// healAll ends every fault: links up, paused nodes resumed, removed
// nodes added back, stopped nodes started. The cluster is then expected
// to converge.
func (fc *faultCluster) healAll() {
	fc.t.Helper()
	fc.net.heal()
	for i := range fc.nodes {
		fc.resume(i)
	}
	for i := range fc.nodes {
		if fc.isRemoved(i) {
			fc.readd(i)
		}
		fc.start(i)
	}
}

func (fc *faultCluster) isRemoved(i int) bool {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.removed[i]
}

// remove takes node i out of the configuration through node via and
// stops it. A removal whose answer was lost may still have happened, so
// on an error the configuration decides.
func (fc *faultCluster) remove(i, via int) error {
	err := fc.removeRequest(i, via)
	if err != nil && fc.isMember(i) {
		return err
	}
	fc.mu.Lock()
	fc.removed[i] = true
	fc.mu.Unlock()
	fc.kill(i)
	return nil
}

// isMember reports whether node i is in the configuration the leader
// reports (true if that cannot be learnt: the removal may not have
// happened).
func (fc *faultCluster) isMember(i int) bool {
	l := fc.waitLeader(readyTimeout)
	if l < 0 {
		return true
	}
	s, err := fc.status(l)
	return err != nil || slices.Contains(s.Members(), fc.nodes[i].ID())
}

func (fc *faultCluster) removeRequest(i, via int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	body := `{"id":"` + fc.nodes[i].ID() + `"}`
	req, err := http.NewRequestWithContext(ctx, "DELETE", "http://"+fc.nodes[via].HTTPAddr+"/remove", strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("remove %s via %s: %w", fc.nodes[i].ID(), fc.nodes[via].ID(), err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("remove %s via %s: status %d: %s", fc.nodes[i].ID(), fc.nodes[via].ID(), resp.StatusCode, b)
	}
	return nil
}

// readd wipes removed node i's data and joins it again, under the same
// ID and proxy, through every other node's proxy.
func (fc *faultCluster) readd(i int) {
	fc.t.Helper()
	n := fc.nodes[i]
	if err := os.RemoveAll(n.Dir); err != nil {
		fc.t.Fatalf("wipe %s: %v", n.Dir, err)
	}
	var joins []string
	for j, p := range fc.proxy {
		if j != i {
			joins = append(joins, p.Addr())
		}
	}
	args := slices.Clone(n.Args)
	n.Args = append(n.Args, "-join", strings.Join(joins, ","), "-join-attempts", "20", "-join-interval", "1s")
	n.Start()
	n.Args = args
	fc.waitReady(i, 2*readyTimeout)
	fc.mu.Lock()
	fc.removed[i] = false
	fc.mu.Unlock()
}

// dumpLogs writes every node's log into dir.
func (fc *faultCluster) dumpLogs(dir string) {
	for i, n := range fc.nodes {
		os.WriteFile(fmt.Sprintf("%s/node%d.log", dir, i), []byte(n.Logs()), 0o644)
	}
}

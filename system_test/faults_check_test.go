package system_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// regModel is a register per key: reads see the last write, a
// compare-and-set succeeds exactly when the register holds the expected
// value. An operation whose outcome is unknown has an open end, so the
// checker may also place it after everything else (never observed).
var regModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		var keys []int
		for _, op := range history {
			k := op.Input.(regOp).Key
			if _, ok := byKey[k]; !ok {
				keys = append(keys, k)
			}
			byKey[k] = append(byKey[k], op)
		}
		slices.Sort(keys)
		out := make([][]porcupine.Operation, 0, len(keys))
		for _, k := range keys {
			out = append(out, byKey[k])
		}
		return out
	},
	Init: func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		v, op, res := state.(int), input.(regOp), output.(regResult)
		switch op.Kind {
		case "read":
			return res.Value == v, v
		case "write":
			return true, op.Value
		}
		switch {
		case res.Unknown && v == op.Old:
			return true, op.Value
		case res.Unknown:
			return true, v
		case res.OK:
			return v == op.Old, op.Value
		default:
			return v != op.Old, v
		}
	},
	DescribeOperation: func(input, output any) string {
		op, res := input.(regOp), output.(regResult)
		var s string
		switch op.Kind {
		case "read":
			s = fmt.Sprintf("read(%d)@%s -> %d", op.Key, op.Level, res.Value)
		case "write":
			s = fmt.Sprintf("write(%d, %d)", op.Key, op.Value)
		default:
			s = fmt.Sprintf("cas(%d, %d -> %d) -> %v", op.Key, op.Old, op.Value, res.OK)
		}
		if res.Unknown {
			s += " ?"
		}
		return s
	},
	DescribeState: func(state any) string { return fmt.Sprint(state) },
}

// checkResult is what the checkers found.
type checkResult struct {
	problems  []string
	lin       porcupine.CheckResult
	linInfo   porcupine.LinearizationInfo
	opsLin    int // register operations checked
	bankReads int
	transfers int // acknowledged
}

func (r *checkResult) failf(format string, args ...any) {
	r.problems = append(r.problems, fmt.Sprintf(format, args...))
}

// checkLinearizable runs porcupine on the register history.
func checkLinearizable(h *history, timeout time.Duration, r *checkResult) {
	h.mu.Lock()
	ops := slices.Clone(h.ops)
	h.mu.Unlock()
	r.opsLin = len(ops)
	r.lin, r.linInfo = porcupine.CheckOperationsVerbose(regModel, ops, timeout)
	switch r.lin {
	case porcupine.Illegal:
		r.failf("linearizability: the register history (%d operations) is not linearizable", len(ops))
	case porcupine.Unknown:
		r.failf("linearizability: the checker did not finish within %s on %d operations", timeout, len(ops))
	}
}

// checkBank checks every bank read's total, and that every acknowledged
// transfer is in the database once.
func checkBank(fc *faultCluster, h *history, r *checkResult) {
	h.mu.Lock()
	bad, acked := slices.Clone(h.bankBad), slices.Clone(h.acked)
	h.mu.Unlock()
	r.bankReads, r.transfers = int(h.bankRead.Load()), len(acked)
	for i, b := range bad {
		if i == 10 {
			r.failf("bank: %d more reads with a wrong total", len(bad)-10)
			break
		}
		r.failf("bank: %s", b)
	}
	n := fc.nodes[0]
	v, err := queryValues(n, "SELECT tid, COUNT(*) FROM xfer GROUP BY tid", "none")
	if err != nil {
		r.failf("bank: read transfers on %s: %v", n.ID(), err)
		return
	}
	count := map[int]int{}
	for _, row := range v {
		count[int(row[0].(float64))] = int(row[1].(float64))
	}
	var lost, twice []int
	for _, tid := range acked {
		if count[tid] == 0 {
			lost = append(lost, tid)
		}
	}
	for tid, c := range count {
		if c > 1 {
			twice = append(twice, tid)
		}
	}
	if len(lost) > 0 {
		r.failf("bank: %d acknowledged transfers missing, e.g. %v", len(lost), lost[:min(10, len(lost))])
	}
	if len(twice) > 0 {
		r.failf("bank: %d transfers applied more than once, e.g. %v", len(twice), twice[:min(10, len(twice))])
	}
}

// nodeState is what convergence compares: the applied index and every
// workload table's rows.
type nodeState struct {
	index string
	rows  map[string]string
}

// table is one table convergence compares, and the query listing it.
type table struct{ name, query string }

// workloadTables are the fault suite's tables.
var workloadTables = []table{
	{"reg", "SELECT k, v FROM reg ORDER BY k"},
	{"bank", "SELECT id, balance FROM bank ORDER BY id"},
	{"xfer", "SELECT rowid, tid, src, dst, amount FROM xfer ORDER BY rowid"},
}

func readState(n *Node, tables []table) (nodeState, error) {
	s := nodeState{rows: map[string]string{}}
	before, err := appliedIndex(n)
	if err != nil {
		return s, err
	}
	for _, tb := range tables {
		rows, err := queryValues(n, tb.query, "none")
		if err != nil {
			return s, err
		}
		b, _ := json.Marshal(rows)
		s.rows[tb.name] = string(b)
	}
	// The rows belong to one index only if it did not move meanwhile.
	if s.index, err = appliedIndex(n); err != nil {
		return s, err
	}
	if s.index != before {
		return s, fmt.Errorf("%s moved from index %s to %s while being read", n.ID(), before, s.index)
	}
	return s, nil
}

// appliedIndex is the index n's database says it reflects.
func appliedIndex(n *Node) (string, error) {
	v, err := queryValues(n, "SELECT raft_index FROM _rdb_applied", "none")
	if err != nil {
		return "", err
	}
	if len(v) != 1 || len(v[0]) != 1 {
		return "", fmt.Errorf("applied index of %s: %v", n.ID(), v)
	}
	return fmt.Sprint(v[0][0]), nil
}

// checkConvergence waits up to d until every node is at the same applied
// index with the same rows. If they never are, it names each node that
// differs from node ref (the leader) at the same index, and the tables.
func checkConvergence(fc *faultCluster, ref int, tables []table, d time.Duration, r *checkResult) {
	deadline := time.Now().Add(d)
	var last string
	for {
		states := make([]nodeState, len(fc.nodes))
		var err error
		for i, n := range fc.nodes {
			if states[i], err = readState(n, tables); err != nil {
				break
			}
		}
		if err == nil {
			diff, diverged := convergenceDiff(fc, ref, tables, states)
			if diff == "" {
				return
			}
			if diverged {
				r.failf("convergence: %s", diff)
				return
			}
			last = diff
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			r.failf("convergence: after %s: %s", d, last)
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// convergenceDiff describes how states differ from states[ref], "" if
// they do not. Nodes at another index are only reported as behind (they
// may still be catching up); nodes at the same index with other rows have
// diverged, which diverged reports.
func convergenceDiff(fc *faultCluster, ref int, tables []table, states []nodeState) (diff string, diverged bool) {
	var out []string
	for i, s := range states {
		if i == ref {
			continue
		}
		if s.index != states[ref].index {
			out = append(out, fmt.Sprintf("node %d (%s) at applied index %s, node %d (%s) at %s",
				i, fc.nodes[i].ID(), s.index, ref, fc.nodes[ref].ID(), states[ref].index))
			continue
		}
		for _, tb := range tables {
			if s.rows[tb.name] != states[ref].rows[tb.name] {
				out = append(out, fmt.Sprintf("node %d (%s) diverged from node %d (%s) at applied index %s: table %s differs",
					i, fc.nodes[i].ID(), ref, fc.nodes[ref].ID(), s.index, tb.name))
				diverged = true
			}
		}
	}
	return strings.Join(out, "; "), diverged
}

// writeArtifacts puts the history, porcupine's visualisation, the
// nemesis log and every node's log into a new directory and returns its
// path. It outlives the test, for whoever investigates.
func writeArtifacts(fc *faultCluster, h *history, nem *nemesis, r *checkResult) (string, error) {
	dir, err := os.MkdirTemp("", "rdb-lin-failure-")
	if err != nil {
		return "", fmt.Errorf("artifact directory: %w", err)
	}
	h.mu.Lock()
	hist, err := json.MarshalIndent(h.ops, "", " ")
	h.mu.Unlock()
	if err != nil {
		return dir, fmt.Errorf("encode history: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "history.json"), hist, 0o644); err != nil {
		return dir, fmt.Errorf("write history: %w", err)
	}
	if r.lin != "" {
		if err := porcupine.VisualizePath(regModel, r.linInfo, filepath.Join(dir, "linearizability.html")); err != nil {
			return dir, fmt.Errorf("write visualisation: %w", err)
		}
	}
	nem.mu.Lock()
	nlog := strings.Join(nem.log, "\n")
	nem.mu.Unlock()
	report := strings.Join(r.problems, "\n") + "\n"
	os.WriteFile(filepath.Join(dir, "nemesis.log"), []byte(nlog+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "problems.txt"), []byte(report), 0o644)
	fc.dumpLogs(dir)
	return dir, nil
}

// checkDivergenceReports checks rdb's own divergence detection after a
// run: no node ever logged a diverged replica, and a round of the final
// leader, after everything healed, found every other node matching.
func checkDivergenceReports(fc *faultCluster, leader int, d time.Duration, r *checkResult) {
	for i, n := range fc.nodes {
		if strings.Contains(n.Logs(), "replica diverged") {
			r.failf("divergence detection: node %d (%s) logged a diverged replica", i, n.ID())
		}
	}
	deadline := time.Now().Add(d)
	start := time.Now()
	var last string
	for time.Now().Before(deadline) {
		ok, seen := lastRoundMatches(fc, leader, start)
		if ok {
			return
		}
		last = seen
		time.Sleep(200 * time.Millisecond)
	}
	r.failf("divergence detection: no round of leader %s found every node matching within %s; last: %s",
		fc.nodes[leader].ID(), d, last)
}

// lastRoundMatches reports whether the leader's last divergence round
// started after since and found every other node matching.
func lastRoundMatches(fc *faultCluster, leader int, since time.Time) (bool, string) {
	var st struct {
		LastRound *struct {
			Started time.Time         `json:"started"`
			Nodes   map[string]string `json:"nodes"`
			Error   string            `json:"error"`
		} `json:"last_round"`
	}
	code, body, err := fc.nodes[leader].Do("GET", "/status?key=divergence", "", "")
	if err != nil || code != 200 || json.Unmarshal([]byte(body), &st) != nil || st.LastRound == nil {
		return false, fmt.Sprintf("%d %v %s", code, err, body)
	}
	lr := st.LastRound
	if lr.Started.Before(since) || lr.Error != "" || len(lr.Nodes) != len(fc.nodes)-1 {
		return false, body
	}
	for _, v := range lr.Nodes {
		if v != "match" {
			return false, body
		}
	}
	return true, body
}

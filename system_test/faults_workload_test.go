package system_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/anishathalye/porcupine"
)

const (
	bankAccounts = 8
	bankInitial  = 100
	// opTimeout bounds each client request; a write that times out is
	// recorded as possibly applied.
	opTimeout = 8 * time.Second
	// maxOpsPerClient bounds each client's loop.
	maxOpsPerClient = 1_000_000
)

// regOp is what a register operation asked for.
type regOp struct {
	Kind  string // "read", "write", "cas"
	Key   int
	Value int // write: the value; cas: the new value
	Old   int // cas: the expected value
	Level string
}

// regResult is what it got back. Unknown: the request may or may not have
// taken effect (timeout, connection lost, leadership lost).
type regResult struct {
	Value   int  // read
	OK      bool // cas: swapped
	Unknown bool
}

// outcome classifies one client request.
type outcome int

const (
	outcomeOK      outcome = iota
	outcomeFailed          // definitely not applied
	outcomeUnknown         // may have been applied
)

// history records operations as porcupine sees them, with times relative
// to its start.
type history struct {
	start    time.Time
	mu       sync.Mutex
	ops      []porcupine.Operation
	clients  atomic.Int64
	failed   atomic.Int64 // definitely failed, not recorded
	unknown  atomic.Int64 // recorded with an open end
	bankBad  []string     // bank reads whose total was wrong
	bankRead atomic.Int64
	acked    []int // acknowledged transfer ids
	xferTry  atomic.Int64
}

func newHistory() *history { return &history{start: time.Now()} }

func (h *history) now() int64 { return time.Since(h.start).Nanoseconds() }

func (h *history) newClient() int { return int(h.clients.Add(1) - 1) }

func (h *history) add(op porcupine.Operation) {
	h.mu.Lock()
	h.ops = append(h.ops, op)
	h.mu.Unlock()
}

// workload runs clients against the cluster until stop is closed.
type workload struct {
	fc      *faultCluster
	h       *history
	keys    int
	levels  []string // read levels checked for linearizability
	stop    chan struct{}
	wg      sync.WaitGroup
	nextVal atomic.Int64
	nextTid atomic.Int64
	client  *http.Client
}

func newWorkload(fc *faultCluster, keys int, levels []string) *workload {
	return &workload{fc: fc, h: newHistory(), keys: keys, levels: levels, stop: make(chan struct{}),
		client: &http.Client{Timeout: opTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// setup creates the tables and the initial rows (every register 0, every
// account bankInitial) before any history is recorded.
func (w *workload) setup() {
	t := w.fc.t
	t.Helper()
	l := w.fc.waitLeader(readyTimeout)
	if l < 0 {
		t.Fatal("no leader to set up the workload on")
	}
	// One request, so that every prefix of the log a node may serve a
	// stale read from has either no tables or all of them, filled.
	stmts := []string{
		`"CREATE TABLE reg (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)"`,
		`"CREATE TABLE bank (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)"`,
		`"CREATE TABLE xfer (tid INTEGER NOT NULL, src INTEGER, dst INTEGER, amount INTEGER)"`,
	}
	for k := range w.keys {
		stmts = append(stmts, fmt.Sprintf(`"INSERT INTO reg(k, v) VALUES(%d, 0)"`, k))
	}
	for a := range bankAccounts {
		stmts = append(stmts, fmt.Sprintf(`"INSERT INTO bank(id, balance) VALUES(%d, %d)"`, a, bankInitial))
	}
	w.fc.nodes[l].Execute("/db/execute?transaction", "["+strings.Join(stmts, ",")+"]")
}

// run starts registers register clients and bankers bank clients; client
// i draws its choices from a source seeded with seed and i.
func (w *workload) run(seed uint64, registers, bankers int) {
	for i := range registers + bankers {
		rng := rand.New(rand.NewPCG(seed, uint64(i)+1))
		w.wg.Add(1)
		if i < registers {
			go w.registerClient(rng)
		} else {
			go w.bankClient(rng)
		}
	}
}

// finish stops the clients and waits for them.
func (w *workload) finish() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.wg.Wait()
}

func (w *workload) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

func (w *workload) registerClient(rng *rand.Rand) {
	defer w.wg.Done()
	id := w.h.newClient()
	seen := map[int]int{} // the last value this client saw or wrote per key
	for range maxOpsPerClient {
		if w.stopped() {
			return
		}
		node := rng.IntN(len(w.fc.nodes))
		op := regOp{Key: rng.IntN(w.keys)}
		switch r := rng.IntN(10); {
		case r < 4:
			op.Kind, op.Level = "read", w.levels[rng.IntN(len(w.levels))]
		case r < 7:
			op.Kind, op.Value = "write", int(w.nextVal.Add(1))
		default:
			// Expect the value this client last saw there: often still
			// current, so both outcomes occur.
			op.Kind, op.Value, op.Old = "cas", int(w.nextVal.Add(1)), seen[op.Key]
		}
		call := w.h.now()
		res, out := w.doRegister(node, op)
		switch out {
		case outcomeFailed:
			w.h.failed.Add(1)
			w.pace()
			continue
		case outcomeUnknown:
			if op.Kind == "read" {
				// A read without an answer constrains nothing.
				w.pace()
				continue
			}
			w.h.unknown.Add(1)
			w.h.add(porcupine.Operation{ClientId: id, Input: op, Call: call, Output: regResult{Unknown: true},
				Return: math.MaxInt64, Metadata: w.fc.nodes[node].ID()})
			// The request may still be in flight: this client's later
			// operations are concurrent with it, so they get a new ID.
			id = w.h.newClient()
			w.pace()
			continue
		}
		w.h.add(porcupine.Operation{ClientId: id, Input: op, Call: call, Output: res, Return: w.h.now(),
			Metadata: w.fc.nodes[node].ID()})
		switch {
		case op.Kind == "read":
			seen[op.Key] = res.Value
		case op.Kind == "write" || res.OK:
			seen[op.Key] = op.Value
		}
	}
}

// pace slows a client after a failure, as a retrying client would, so
// that failing clients do not starve the nodes.
func (w *workload) pace() {
	t := time.NewTimer(20 * time.Millisecond)
	defer t.Stop()
	select {
	case <-w.stop:
	case <-t.C:
	}
}

// doRegister sends op to node.
func (w *workload) doRegister(node int, op regOp) (regResult, outcome) {
	switch op.Kind {
	case "read":
		v, out := w.query(node, fmt.Sprintf("SELECT v FROM reg WHERE k = %d", op.Key), op.Level)
		if out != outcomeOK || len(v) != 1 || len(v[0]) != 1 {
			return regResult{}, max(out, outcomeUnknown)
		}
		f, ok := v[0][0].(float64)
		if !ok {
			return regResult{}, outcomeUnknown
		}
		return regResult{Value: int(f)}, outcomeOK
	case "write":
		_, out := w.execute(node, "", fmt.Sprintf(`[["UPDATE reg SET v = ? WHERE k = ?", %d, %d]]`, op.Value, op.Key))
		return regResult{}, out
	default:
		rows, out := w.execute(node, "", fmt.Sprintf(`[["UPDATE reg SET v = ? WHERE k = ? AND v = ?", %d, %d, %d]]`,
			op.Value, op.Key, op.Old))
		return regResult{OK: len(rows) == 1 && rows[0] == 1}, out
	}
}

// execResult is one statement's result of /db/execute.
type execResult struct {
	RowsAffected int64  `json:"rows_affected"`
	Error        string `json:"error"`
}

// execute posts stmts (JSON) to node's /db/execute with params, returning
// each statement's rows_affected. A statement error means the request was
// applied and failed (nothing changed: each is alone or in a
// transaction), so it is a definite failure; a request that never
// reached the node (connection refused) is too; anything else is unknown.
func (w *workload) execute(node int, params, stmts string) ([]int64, outcome) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	u := "http://" + w.fc.nodes[node].HTTPAddr + "/db/execute" + params
	req, err := http.NewRequestWithContext(ctx, "POST", u, strings.NewReader(stmts))
	if err != nil {
		return nil, outcomeFailed
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, outcomeFailed
		}
		return nil, outcomeUnknown
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, outcomeUnknown
	}
	var r struct {
		Results []execResult `json:"results"`
		Error   string       `json:"error"`
	}
	if json.Unmarshal(b, &r) != nil || r.Error != "" {
		return nil, outcomeUnknown
	}
	rows := make([]int64, len(r.Results))
	for i, res := range r.Results {
		if res.Error != "" {
			return nil, outcomeFailed
		}
		rows[i] = res.RowsAffected
	}
	return rows, outcomeOK
}

// query runs q at level on node.
func (w *workload) query(node int, q, level string) ([][]any, outcome) {
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	u := "http://" + w.fc.nodes[node].HTTPAddr + "/db/query?level=" + level + "&q=" + url.QueryEscape(q)
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, outcomeFailed
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, outcomeUnknown
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return nil, outcomeUnknown
	}
	var r struct {
		Results []struct {
			Values [][]any `json:"values"`
			Error  string  `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &r) != nil || r.Error != "" || len(r.Results) != 1 || r.Results[0].Error != "" {
		return nil, outcomeUnknown
	}
	return r.Results[0].Values, outcomeOK
}

// bankLevels are the levels the bank reads at: the total must hold at
// every one of them, stale or not.
var bankLevels = []string{"none", "weak", "linearizable", "strong"}

func (w *workload) bankClient(rng *rand.Rand) {
	defer w.wg.Done()
	for range maxOpsPerClient {
		if w.stopped() {
			return
		}
		node := rng.IntN(len(w.fc.nodes))
		if rng.IntN(2) == 0 {
			w.bankRead(node, bankLevels[rng.IntN(len(bankLevels))])
			continue
		}
		src, dst := rng.IntN(bankAccounts), rng.IntN(bankAccounts)
		amount, tid := 1+rng.IntN(20), int(w.nextTid.Add(1))
		w.h.xferTry.Add(1)
		_, out := w.execute(node, "?transaction", fmt.Sprintf(`[`+
			`["UPDATE bank SET balance = balance - ? WHERE id = ?", %d, %d],`+
			`["UPDATE bank SET balance = balance + ? WHERE id = ?", %d, %d],`+
			`["INSERT INTO xfer(tid, src, dst, amount) VALUES(?, ?, ?, ?)", %d, %d, %d, %d]]`,
			amount, src, amount, dst, tid, src, dst, amount))
		if out == outcomeOK {
			w.h.mu.Lock()
			w.h.acked = append(w.h.acked, tid)
			w.h.mu.Unlock()
			continue
		}
		w.pace()
	}
}

// bankRead checks the total and the number of accounts in one read.
func (w *workload) bankRead(node int, level string) {
	v, out := w.query(node, "SELECT SUM(balance), COUNT(*) FROM bank", level)
	if out != outcomeOK {
		w.pace()
		return
	}
	w.h.bankRead.Add(1)
	want := []any{float64(bankAccounts * bankInitial), float64(bankAccounts)}
	if len(v) != 1 || len(v[0]) != 2 || v[0][0] != want[0] || v[0][1] != want[1] {
		w.h.mu.Lock()
		w.h.bankBad = append(w.h.bankBad, fmt.Sprintf("%s read at %s: total and count %v, want %v",
			w.fc.nodes[node].ID(), level, v, want))
		w.h.mu.Unlock()
	}
}

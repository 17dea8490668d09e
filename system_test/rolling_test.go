package system_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// maxRollingWriteGap bounds the longest pause between acknowledged
// writes during a rolling restart: a leader hand-over on a loaded
// machine, with room to spare.
const maxRollingWriteGap = 15 * time.Second

// TestDisco_RollingRestart forms a 3-node cluster through dns discovery,
// then SIGTERMs and restarts each node in turn with the same flags while
// a client keeps writing through whichever node answers. Writes must keep
// being acknowledged, with at most a bounded gap at each leader hand-over,
// and every acknowledged write must be on every node at the end (issue
// 13, acceptance 6). The longest gap is logged.
func TestDisco_RollingRestart(t *testing.T) {
	nodes := make([]*Node, 3)
	var addrs []string
	for i := range nodes {
		nodes[i] = newNode(t, "-disco-mode", "dns", "-disco-key", discoKey(), "-bootstrap-expect", "3",
			"-raft-shutdown-stepdown", "-join-interval", "1s", "-join-attempts", "120")
		nodes[i].RaftAddr = rdbtest.UnusedAddr(t)
		addrs = append(addrs, nodes[i].RaftAddr)
	}
	t.Cleanup(func() { stopAll(nodes) })
	for _, n := range nodes {
		n.Env = []string{"RQLITE_DISCO_DNS_HOSTS=" + strings.Join(addrs, ",")}
		n.Start()
	}
	checkFormed(t, nodes)
	var urls []string
	for _, n := range nodes {
		urls = append(urls, "http://"+n.HTTPAddr)
	}

	w := &rollingWriter{urls: urls}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	defer func() { cancel(); <-done }()
	w.waitAcks(t, 20)

	handovers := 0
	for _, n := range nodes {
		if s, err := n.Status(); err == nil && s.Leader.NodeID == n.ID() {
			handovers++
		}
		n.Stop()
		n.Start()
		n.WaitReady(readyTimeout)
		waitMembers(t, n, ids(nodes...))
		w.waitAcks(t, w.acked()+20)
	}
	cancel()
	<-done

	gap, ids := w.result()
	t.Logf("rolling restart: %d writes acknowledged, %d failed attempts, %d leader hand-overs, longest gap between acknowledged writes %v",
		len(ids), w.failures(), handovers, gap.Round(time.Millisecond))
	if handovers == 0 {
		t.Error("no node was leader when it was stopped: the restart did not exercise a hand-over")
	}
	if gap > maxRollingWriteGap {
		t.Errorf("longest write gap %v exceeds %v", gap, maxRollingWriteGap)
	}
	// Ids 2..last were each sent until acknowledged, so with
	// checkFormed's row 1 every node must hold exactly last rows up to
	// last (a write cut off by the end of the test may add one more).
	last := ids[len(ids)-1]
	q := fmt.Sprintf("SELECT COUNT(*) FROM foo WHERE id <= %d", last)
	for _, n := range nodes {
		waitUntil(t, readyTimeout, fmt.Sprintf("%d acknowledged rows on %s", last, n.ID()), func() (bool, string) {
			v, err := queryValues(n, q, "none")
			return err == nil && len(v) == 1 && fmt.Sprint(v[0]) == fmt.Sprintf("[%d]", last), fmt.Sprint(v, err)
		})
	}
}

// rollingWriter inserts one row at a time, each through the first node
// (in turn) that acknowledges it, and records when writes were
// acknowledged.
type rollingWriter struct {
	urls []string

	mu     sync.Mutex
	ids    []int
	last   time.Time
	maxGap time.Duration
	fails  int
}

func (w *rollingWriter) run(ctx context.Context) {
	hc := &http.Client{Timeout: 5 * time.Second}
	w.mu.Lock()
	w.last = time.Now()
	w.mu.Unlock()
	for id, next := 2, 0; ctx.Err() == nil; id++ {
		body := fmt.Sprintf(`["INSERT INTO foo(id, name) VALUES(%d, 'r')"]`, id)
		for ctx.Err() == nil {
			url := w.urls[next%len(w.urls)]
			next++
			if w.write(ctx, hc, url, body) {
				w.ack(id)
				break
			}
			w.mu.Lock()
			w.fails++
			w.mu.Unlock()
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// write reports whether url acknowledged body. A try whose outcome is
// unknown (cut off after sending) is sent again with the same id; if the
// first try did commit, the primary key refuses the second, and that
// answer acknowledges the row too.
func (w *rollingWriter) write(ctx context.Context, hc *http.Client, url, body string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/db/execute", strings.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.Contains(string(b), `"error"`) {
		return resp.StatusCode == http.StatusOK && strings.Contains(string(b), "UNIQUE constraint failed")
	}
	return true
}

func (w *rollingWriter) ack(id int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	w.maxGap = max(w.maxGap, now.Sub(w.last))
	w.last = now
	w.ids = append(w.ids, id)
}

func (w *rollingWriter) acked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.ids)
}

func (w *rollingWriter) failures() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fails
}

func (w *rollingWriter) result() (time.Duration, []int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.maxGap, slices.Clone(w.ids)
}

// waitAcks waits until n writes have been acknowledged.
func (w *rollingWriter) waitAcks(t *testing.T, n int) {
	t.Helper()
	waitUntil(t, 2*maxRollingWriteGap, fmt.Sprintf("%d acknowledged writes", n), func() (bool, string) {
		got := w.acked()
		return got >= n, fmt.Sprintf("%d acknowledged, %d failed attempts", got, w.failures())
	})
}

package system_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadTable is the table the write load inserts into. uid is deliberately
// not unique, so a write applied twice shows up as a duplicate.
const loadTable = "CREATE TABLE load (seq INTEGER PRIMARY KEY AUTOINCREMENT, uid INTEGER NOT NULL, writer INTEGER NOT NULL)"

const (
	// maxWritesPerWriter bounds each writer's loop.
	maxWritesPerWriter = 200000
	// retryPause is how long a writer pauses after a failed write.
	retryPause = 10 * time.Millisecond
)

// attempt is one write a writer made.
type attempt struct {
	uid        int
	start, end time.Time
	ok         bool
	err        string
}

// load is a set of concurrent writers, each inserting rows with ids
// unique across the whole load, through one node each, and recording
// which writes were acknowledged (200 and one row affected, no error).
type load struct {
	nextUID  atomic.Int64
	stop     chan struct{}
	wg       sync.WaitGroup
	timeout  time.Duration
	mu       sync.Mutex
	attempts [][]attempt // per writer
	client   *http.Client
}

// startLoad starts writers goroutines; writer i writes through
// targets[i%len(targets)], each request bounded by timeout. It stops at
// stopLoad, at maxWritesPerWriter writes, or after maxRun.
func startLoad(t *testing.T, targets []*Node, writers int, timeout, maxRun time.Duration) *load {
	t.Helper()
	l := &load{stop: make(chan struct{}), timeout: timeout, attempts: make([][]attempt, writers),
		client: &http.Client{CheckRedirect: client.CheckRedirect}}
	deadline := time.Now().Add(maxRun)
	for w := range writers {
		l.wg.Add(1)
		go l.run(w, targets[w%len(targets)], deadline)
	}
	t.Cleanup(l.stopLoad)
	return l
}

func (l *load) run(w int, n *Node, deadline time.Time) {
	defer l.wg.Done()
	for range maxWritesPerWriter {
		select {
		case <-l.stop:
			return
		default:
		}
		if time.Now().After(deadline) {
			return
		}
		a := l.write(w, n)
		l.mu.Lock()
		l.attempts[w] = append(l.attempts[w], a)
		l.mu.Unlock()
		if !a.ok {
			l.pause()
		}
	}
}

// pause paces a writer after a failed write, as a client retrying would,
// so that failing writers do not starve the nodes of CPU. It is not used
// to wait for anything.
func (l *load) pause() {
	t := time.NewTimer(retryPause)
	defer t.Stop()
	select {
	case <-l.stop:
	case <-t.C:
	}
}

// write inserts one row with a fresh uid through n.
func (l *load) write(w int, n *Node) attempt {
	a := attempt{uid: int(l.nextUID.Add(1)), start: time.Now()}
	body := fmt.Sprintf(`[["INSERT INTO load(uid, writer) VALUES(?, ?)", %d, %d]]`, a.uid, w)
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", "http://"+n.HTTPAddr+"/db/execute", strings.NewReader(body))
	if err != nil {
		a.err = err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := l.client.Do(req)
	if err != nil {
		a.end, a.err = time.Now(), err.Error()
		return a
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	a.end = time.Now()
	if err != nil {
		a.err = err.Error()
		return a
	}
	a.ok, a.err = acknowledged(resp.StatusCode, b)
	return a
}

// acknowledged reports whether a reply to a one-row insert says the row
// was written.
func acknowledged(code int, body []byte) (bool, string) {
	if code != http.StatusOK {
		return false, fmt.Sprintf("status %d: %s", code, body)
	}
	var r struct {
		Results []struct {
			RowsAffected int    `json:"rows_affected"`
			Error        string `json:"error"`
		} `json:"results"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return false, fmt.Sprintf("decode %s: %v", body, err)
	}
	if r.Error != "" || len(r.Results) != 1 || r.Results[0].Error != "" || r.Results[0].RowsAffected != 1 {
		return false, string(body)
	}
	return true, ""
}

// stopLoad stops the writers and waits for them; it may be called twice.
func (l *load) stopLoad() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// snapshot returns a copy of every writer's attempts so far.
func (l *load) snapshot() [][]attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([][]attempt, len(l.attempts))
	for i, a := range l.attempts {
		out[i] = slices.Clone(a)
	}
	return out
}

// acksSince returns, per writer, how many acknowledged writes started
// after since.
func (l *load) acksSince(since time.Time) []int {
	all := l.snapshot()
	out := make([]int, len(all))
	for w, as := range all {
		for _, a := range as {
			if a.ok && a.start.After(since) {
				out[w]++
			}
		}
	}
	return out
}

// waitAcks waits until every writer has at least n acknowledged writes
// that started after since.
func (l *load) waitAcks(t *testing.T, since time.Time, n int, d time.Duration) {
	t.Helper()
	waitUntil(t, d, fmt.Sprintf("every writer to have %d acknowledged writes", n), func() (bool, string) {
		got := l.acksSince(since)
		return slices.Min(got) >= n, fmt.Sprintf("acks per writer %v; %s", got, l.lastErrors())
	})
}

// lastErrors describes the most recent failed attempt of each writer.
func (l *load) lastErrors() string {
	var b strings.Builder
	for w, as := range l.snapshot() {
		for i := len(as) - 1; i >= 0; i-- {
			if !as[i].ok {
				fmt.Fprintf(&b, "writer %d last error at %s: %s; ", w, as[i].end.Format("15:04:05.000"), as[i].err)
				break
			}
		}
	}
	return b.String()
}

// acked returns the uids of all acknowledged writes, sorted.
func (l *load) acked() []int {
	var out []int
	for _, as := range l.snapshot() {
		for _, a := range as {
			if a.ok {
				out = append(out, a.uid)
			}
		}
	}
	slices.Sort(out)
	return out
}

// outage is the unavailability one writer saw around an event at time at:
// from the end of its last acknowledged write that ended before at, to
// the end of its first acknowledged write that started after at.
func outage(as []attempt, at time.Time) (time.Duration, bool) {
	var last, first time.Time
	for _, a := range as {
		switch {
		case !a.ok:
		case !a.end.After(at):
			last = a.end
		case a.start.After(at) && first.IsZero():
			first = a.end
		}
	}
	if last.IsZero() || first.IsZero() {
		return 0, false
	}
	return first.Sub(last), true
}

// longestGap is the longest time one writer went without an
// acknowledgement, between its first and last acknowledged writes.
func longestGap(as []attempt) time.Duration {
	var gap time.Duration
	var prev time.Time
	for _, a := range as {
		if !a.ok {
			continue
		}
		if !prev.IsZero() && a.end.Sub(prev) > gap {
			gap = a.end.Sub(prev)
		}
		prev = a.end
	}
	return gap
}

// failures returns the failed attempts of all writers.
func failures(all [][]attempt) []attempt {
	var out []attempt
	for _, as := range all {
		for _, a := range as {
			if !a.ok {
				out = append(out, a)
			}
		}
	}
	return out
}

// uids returns every uid in the load table on n at level=none, sorted.
func uids(n *Node) ([]int, error) {
	v, err := queryValues(n, "SELECT uid FROM load ORDER BY uid", "none")
	if err != nil {
		return nil, err
	}
	out := make([]int, len(v))
	for i, row := range v {
		f, ok := row[0].(float64)
		if !ok {
			return nil, fmt.Errorf("uid %v on %s is not a number", row[0], n.HTTPAddr)
		}
		out[i] = int(f)
	}
	return out, nil
}

// checkAckedPresent waits until nodes hold identical load tables that
// contain every uid in acked, then checks that no uid appears twice.
func checkAckedPresent(t *testing.T, nodes []*Node, acked []int) {
	t.Helper()
	var got [][]int
	waitUntil(t, 30*time.Second, "all nodes to hold the same rows, including every acknowledged write", func() (bool, string) {
		got = make([][]int, len(nodes))
		for i, n := range nodes {
			u, err := uids(n)
			if err != nil {
				return false, err.Error()
			}
			got[i] = u
		}
		for i := range got {
			if !slices.Equal(got[i], got[0]) {
				return false, fmt.Sprintf("%s has %d rows, %s has %d", nodes[0].ID(), len(got[0]), nodes[i].ID(), len(got[i]))
			}
		}
		missing := missingFrom(got[0], acked)
		return len(missing) == 0, fmt.Sprintf("%d acknowledged writes missing, e.g. %v", len(missing), missing[:min(5, len(missing))])
	})
	if d := duplicates(got[0]); len(d) > 0 {
		t.Errorf("uids written more than once: %v", d[:min(10, len(d))])
	}
	t.Logf("%d acknowledged writes, %d rows on each of %d nodes", len(acked), len(got[0]), len(nodes))
}

// missingFrom returns the values of want (sorted) absent from have (sorted).
func missingFrom(have, want []int) []int {
	var out []int
	for _, w := range want {
		if _, ok := slices.BinarySearch(have, w); !ok {
			out = append(out, w)
		}
	}
	return out
}

// duplicates returns the values that occur more than once in sorted s.
func duplicates(s []int) []int {
	var out []int
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] && (len(out) == 0 || out[len(out)-1] != s[i]) {
			out = append(out, s[i])
		}
	}
	return out
}

// killLeaderUnderLoad runs writers through survivors until each has acks
// acknowledged writes, kills the leader (-9), waits for a new one among
// survivors and for acks more per writer, then stops the load. It returns
// the load and when the leader was killed.
func killLeaderUnderLoad(t *testing.T, leader *Node, survivors []*Node, writers, acks int) (*load, time.Time) {
	t.Helper()
	begin := time.Now()
	l := startLoad(t, survivors, writers, 10*time.Second, 2*time.Minute)
	l.waitAcks(t, begin, acks, 30*time.Second)
	killedAt := time.Now()
	leader.Kill()
	newLeader := waitLeader(t, survivors, 20*time.Second)
	t.Logf("killed leader %s; %s leads %v later", leader.ID(), newLeader.ID(), time.Since(killedAt).Round(time.Millisecond))
	l.waitAcks(t, killedAt, acks, 30*time.Second)
	l.stopLoad()
	return l, killedAt
}

package system_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// cdcSink is an HTTP endpoint that records every envelope it accepts and
// can be made to fail.
type cdcSink struct {
	srv     *httptest.Server
	failing atomic.Bool

	mu        sync.Mutex
	envelopes []cdcEnvelope
	raw       []string              // accepted bodies, as sent
	indexes   map[uint64]cdcElement // distinct payload indexes
	last      time.Time             // when a new index last arrived
	refused   int
}

type cdcEnvelope struct {
	ServiceID string       `json:"service_id"`
	NodeID    string       `json:"node_id"`
	Payload   []cdcElement `json:"payload"`
}

type cdcElement struct {
	Index           uint64     `json:"index"`
	CommitTimestamp int64      `json:"commit_timestamp"`
	Events          []cdcEvent `json:"events"`
}

type cdcEvent struct {
	Op       string         `json:"op"`
	Table    string         `json:"table"`
	NewRowID int64          `json:"new_row_id"`
	OldRowID int64          `json:"old_row_id"`
	Before   map[string]any `json:"before"`
	After    map[string]any `json:"after"`
}

func newCDCSink(t *testing.T) *cdcSink {
	s := &cdcSink{indexes: map[uint64]cdcElement{}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if s.failing.Load() {
			s.mu.Lock()
			s.refused++
			s.mu.Unlock()
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		var env cdcEnvelope
		if r.Header.Get("Content-Type") != "application/json" || json.Unmarshal(b, &env) != nil {
			t.Errorf("bad CDC request: %s %q", r.Header.Get("Content-Type"), b)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		s.envelopes = append(s.envelopes, env)
		s.raw = append(s.raw, string(b))
		for _, el := range env.Payload {
			if _, ok := s.indexes[el.Index]; !ok {
				s.indexes[el.Index] = el
				s.last = time.Now()
			}
		}
		s.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *cdcSink) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.indexes)
}

// events returns the events of every distinct index, in index order.
func (s *cdcSink) elements() []cdcElement {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]cdcElement, 0, len(s.indexes))
	for _, el := range s.indexes {
		out = append(out, el)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Index < out[j].Index })
	return out
}

// insertedIDs lists the new_row_id of every INSERT event received.
func (s *cdcSink) insertedIDs() map[int64]bool {
	ids := map[int64]bool{}
	for _, el := range s.elements() {
		for _, ev := range el.Events {
			if ev.Op == "INSERT" {
				ids[ev.NewRowID] = true
			}
		}
	}
	return ids
}

func (s *cdcSink) waitDistinct(t *testing.T, n int, d time.Duration) {
	t.Helper()
	waitUntil(t, d, fmt.Sprintf("%d distinct CDC indexes", n), func() (bool, string) {
		got := s.distinct()
		return got >= n, fmt.Sprint(got)
	})
}

func (s *cdcSink) waitIDs(t *testing.T, from, to int64, d time.Duration) {
	t.Helper()
	waitUntil(t, d, fmt.Sprintf("CDC inserts of ids %d..%d", from, to), func() (bool, string) {
		ids := s.insertedIDs()
		var missing []int64
		for i := from; i <= to; i++ {
			if !ids[i] {
				missing = append(missing, i)
			}
		}
		return len(missing) == 0, fmt.Sprintf("missing %d, e.g. %v", len(missing), missing[:min(5, len(missing))])
	})
}

// cdcConfig writes a -cdc-config file for the sink with fast retries.
func cdcConfig(t *testing.T, url string) string {
	t.Helper()
	doc := fmt.Sprintf(`{"endpoint":%q,"service_id":"svc","transmit_min_backoff":200000000,"transmit_max_backoff":1000000000,"high_watermark_interval":200000000}`, url)
	p := filepath.Join(t.TempDir(), "cdc.json")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCDC_SingleInsert(t *testing.T) {
	sink := newCDCSink(t)
	n := StartNode(t, "-cdc-config", sink.srv.URL)
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT, pic BLOB, x REAL)"]`)
	n.Execute("/db/execute", `[["INSERT INTO foo VALUES(?, ?, x'010203', NULL)", 7, "fiona"]]`)
	sink.waitDistinct(t, 1, 10*time.Second)
	els := sink.elements()
	if len(els) != 1 || len(els[0].Events) != 1 {
		t.Fatalf("elements %+v, want one INSERT (DDL emits nothing)", els)
	}
	ev := els[0].Events[0]
	want := map[string]any{"id": 7.0, "name": "fiona", "pic": "AQID", "x": nil}
	if ev.Op != "INSERT" || ev.Table != "foo" || ev.NewRowID != 7 || fmt.Sprint(ev.After) != fmt.Sprint(want) || ev.Before != nil {
		t.Fatalf("event %+v, want INSERT foo 7 %v", ev, want)
	}
	if ts := time.UnixMilli(els[0].CommitTimestamp); time.Since(ts) > time.Minute || time.Since(ts) < 0 {
		t.Errorf("commit_timestamp %d is not recent", els[0].CommitTimestamp)
	}
	sink.mu.Lock()
	env := sink.envelopes[0]
	sink.mu.Unlock()
	if env.NodeID != n.ID() || env.ServiceID != "" {
		t.Errorf("envelope node_id %q service_id %q, want %q and none", env.NodeID, env.ServiceID, n.ID())
	}
	// The body as sent, with the node's ID, the entry's index and the
	// commit time put back to the golden file's values.
	sink.mu.Lock()
	raw := sink.raw[0]
	sink.mu.Unlock()
	raw = strings.Replace(raw, fmt.Sprintf(`"node_id":%q`, n.ID()), `"node_id":"1"`, 1)
	raw = strings.Replace(raw, fmt.Sprintf(`"index":%d,`, els[0].Index), `"index":42,`, 1)
	raw = strings.Replace(raw, fmt.Sprintf(`"commit_timestamp":%d,`, els[0].CommitTimestamp), `"commit_timestamp":1764874523123,`, 1)
	golden, err := os.ReadFile("testdata/cdc_insert.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	if raw != string(golden) {
		t.Errorf("envelope\n%s\nwant (golden)\n%s", raw, golden)
	}
	code, body, err := n.Do("GET", "/status?key=cdc", "", "")
	if err != nil || code != 200 || !strings.Contains(body, `"is_leader":true`) || !strings.Contains(body, `"sink":"`+sink.srv.URL+`"`) {
		t.Errorf("/status cdc: %d %v %s", code, err, body)
	}
}

func TestCDC_500Inserts(t *testing.T) {
	sink := newCDCSink(t)
	n := StartNode(t, "-cdc-config", sink.srv.URL)
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY, v TEXT)"]`)
	for i := 1; i <= 500; i++ {
		n.Execute("/db/execute", fmt.Sprintf(`[["INSERT INTO foo(id, v) VALUES(?, 'x')", %d]]`, i))
	}
	last := time.Now()
	sink.waitDistinct(t, 500, 30*time.Second)
	if took := time.Since(last); took > 5*time.Second {
		t.Errorf("500 distinct indexes arrived %s after the last insert, want within 5s", took)
	}
	sink.waitIDs(t, 1, 500, time.Second)
}

func TestCDC_MultiStatementEntry(t *testing.T) {
	sink := newCDCSink(t)
	n := StartNode(t, "-cdc-config", sink.srv.URL)
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY, v TEXT)"]`)
	n.Execute("/db/execute", `["INSERT INTO foo VALUES(1, 'a')", "INSERT INTO foo VALUES(2, 'b')", "UPDATE foo SET v = 'c' WHERE id = 1", "DELETE FROM foo WHERE id = 2"]`)
	sink.waitDistinct(t, 1, 10*time.Second)
	els := sink.elements()
	if len(els) != 1 {
		t.Fatalf("%d payload elements, want 1 for one entry: %+v", len(els), els)
	}
	var ops []string
	for _, ev := range els[0].Events {
		ops = append(ops, ev.Op)
	}
	if got := strings.Join(ops, ","); got != "INSERT,INSERT,UPDATE,DELETE" {
		t.Fatalf("events %s, want INSERT,INSERT,UPDATE,DELETE", got)
	}
	if els[0].Index == 0 {
		t.Fatal("index 0")
	}
}

func TestCDC_LeaderKilled(t *testing.T) {
	sink := newCDCSink(t)
	nodes := startCluster(t, 3, append([]string{"-cdc-config", cdcConfig(t, sink.srv.URL)}, fastRaft...)...)
	leader := waitLeader(t, nodes, readyTimeout)
	leader.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY)"]`)
	leader.Execute("/db/execute", `["INSERT INTO foo VALUES(1)"]`)
	leader.Execute("/db/execute", `["INSERT INTO foo VALUES(2)"]`)
	sink.waitIDs(t, 1, 2, 10*time.Second)

	leader.Kill()
	rest := others(nodes, leader)
	next := waitLeader(t, rest, readyTimeout)
	next.Execute("/db/execute", `["INSERT INTO foo VALUES(3)"]`)
	start := time.Now()
	sink.waitIDs(t, 1, 3, 20*time.Second)
	t.Logf("write after the election arrived in %s", time.Since(start))
	for _, el := range sink.elements() {
		if len(el.Events) == 1 && el.Events[0].NewRowID == 3 {
			sink.mu.Lock()
			var from string
			for _, env := range sink.envelopes {
				for _, e := range env.Payload {
					if e.Index == el.Index {
						from = env.NodeID
					}
				}
			}
			sink.mu.Unlock()
			if from != next.ID() {
				t.Errorf("row 3 sent by %q, want the new leader %q", from, next.ID())
			}
		}
	}
}

func TestCDC_SinkFailsThenRecovers(t *testing.T) {
	sink := newCDCSink(t)
	n := StartNode(t, "-cdc-config", cdcConfig(t, sink.srv.URL))
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY)"]`)
	sink.failing.Store(true)
	failUntil := time.Now().Add(10 * time.Second)
	for i := 1; time.Now().Before(failUntil); i++ {
		if i <= 50 {
			n.Execute("/db/execute", fmt.Sprintf(`["INSERT INTO foo VALUES(%d)"]`, i))
		}
		time.Sleep(100 * time.Millisecond)
	}
	sink.mu.Lock()
	refused := sink.refused
	sink.mu.Unlock()
	if refused < 2 {
		t.Fatalf("sink refused %d requests while failing, want retries", refused)
	}
	if d := sink.distinct(); d != 0 {
		t.Fatalf("%d indexes delivered while the sink failed", d)
	}
	sink.failing.Store(false)
	sink.waitIDs(t, 1, 50, 20*time.Second)
}

func TestCDC_RestartResendsQueue(t *testing.T) {
	sink := newCDCSink(t)
	n := StartNode(t, "-cdc-config", cdcConfig(t, sink.srv.URL))
	n.Execute("/db/execute", `["CREATE TABLE foo (id INTEGER PRIMARY KEY)"]`)
	n.Execute("/db/execute", `["INSERT INTO foo VALUES(1)"]`)
	sink.waitIDs(t, 1, 1, 10*time.Second)
	sink.failing.Store(true)
	for i := 2; i <= 30; i++ {
		n.Execute("/db/execute", fmt.Sprintf(`["INSERT INTO foo VALUES(%d)"]`, i))
	}
	waitUntil(t, 10*time.Second, "queue holds the undelivered entries", func() (bool, string) {
		_, body, err := n.Do("GET", "/status?key=cdc", "", "")
		return err == nil && strings.Contains(body, `"length":29`), body
	})
	n.Stop()
	sink.failing.Store(false)
	n.Start()
	n.WaitReady(readyTimeout)
	sink.waitIDs(t, 1, 30, 20*time.Second)
	els := sink.elements()
	for i := 1; i < len(els); i++ {
		if els[i].Index <= els[i-1].Index {
			t.Fatalf("indexes out of order: %d then %d", els[i-1].Index, els[i].Index)
		}
	}
}

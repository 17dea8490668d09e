package metrics

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rdb/rdb/store"
)

func newTestRegistry(t *testing.T, src Sources) *Registry {
	t.Helper()
	cfg := DefaultConfig()
	cfg.NodeID = "n1"
	r, err := New(cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// scrape serves /metrics from r and parses it as Prometheus would.
func scrape(t *testing.T, r *Registry) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(rec.Body.String()))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, rec.Body.String())
	}
	return fams
}

// sample finds the metric of fam with exactly labels.
func sample(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	for _, m := range fams[name].GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		match := true
		for _, l := range m.GetLabel() {
			match = match && labels[l.GetName()] == l.GetValue()
		}
		if match {
			return m
		}
	}
	return nil
}

func TestConfig_Validate(t *testing.T) {
	if _, err := New(DefaultConfig(), Sources{}); err == nil {
		t.Error("New without a node ID succeeded")
	}
}

func TestEndpoint_Observe(t *testing.T) {
	r := newTestRegistry(t, Sources{})
	e := r.Endpoint("/db/query")
	for _, c := range []struct {
		method string
		code   int
	}{{"GET", 200}, {"GET", 200}, {"POST", 200}, {"GET", 418}, {"BREW", 200}, {"GET", 200}} {
		e.Observe(c.method, c.code, 2*time.Millisecond)
	}
	fams := scrape(t, r)
	for _, c := range []struct {
		method, code string
		want         float64
	}{{"GET", "200", 3}, {"POST", "200", 1}, {"GET", "418", 1}, {"other", "200", 1}} {
		m := sample(fams, "rdb_http_requests_total", map[string]string{"endpoint": "/db/query", "method": c.method, "code": c.code})
		if got := m.GetCounter().GetValue(); got != c.want {
			t.Errorf("requests{%s,%s} = %v, want %v", c.method, c.code, got, c.want)
		}
	}
	h := sample(fams, "rdb_http_request_duration_seconds", map[string]string{"endpoint": "/db/query", "method": "GET"})
	if got := h.GetHistogram().GetSampleCount(); got != 4 {
		t.Errorf("GET latency count = %d, want 4", got)
	}
	if got := h.GetHistogram().GetSampleSum(); got < 0.0079 || got > 0.0081 {
		t.Errorf("GET latency sum = %v, want 0.008", got)
	}
}

func TestRegistry_StoreObserver(t *testing.T) {
	r := newTestRegistry(t, Sources{})
	r.FSMApplied(3, time.Millisecond)
	r.FSMApplied(5, time.Millisecond)
	r.LogStored(2, time.Millisecond)
	r.SnapshotTaken(time.Second)
	fams := scrape(t, r)
	for _, c := range []struct {
		name       string
		count      uint64
		sum        float64
		sumIsCount bool
	}{
		{"rdb_fsm_apply_batch_entries", 2, 8, true},
		{"rdb_raft_log_append_batch_entries", 1, 2, true},
		{"rdb_snapshot_duration_seconds", 1, 1, true},
		{"rdb_fsm_apply_duration_seconds", 2, 0.002, false},
	} {
		h := sample(fams, c.name, map[string]string{}).GetHistogram()
		if h.GetSampleCount() != c.count {
			t.Errorf("%s count = %d, want %d", c.name, h.GetSampleCount(), c.count)
		}
		if c.sumIsCount && h.GetSampleSum() != c.sum {
			t.Errorf("%s sum = %v, want %v", c.name, h.GetSampleSum(), c.sum)
		}
	}
}

func TestNodeCollector(t *testing.T) {
	m := store.Metrics{Open: true, NodeID: "n1", State: "Follower", HasLeader: true, Voter: true,
		Members: 3, Term: 4, CommitIndex: 100, AppliedIndex: 97, LastLogIndex: 101,
		LeaderChanges: 2, DBBytes: 8192, WALBytes: 4096, ReadConnsInUse: 1, ReadConnsOpen: 2}
	r := newTestRegistry(t, Sources{
		Store:        func() store.Metrics { return m },
		QueuedWrites: func() int { return 7 },
		Forwarded:    func() int64 { return 11 },
	})
	fams := scrape(t, r)
	none := map[string]string{}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"rdb_node_info", map[string]string{"node_id": "n1", "version": "unknown"}, 1},
		{"rdb_raft_state", map[string]string{"state": "follower"}, 1},
		{"rdb_raft_state", map[string]string{"state": "leader"}, 0},
		{"rdb_raft_leader", none, 0},
		{"rdb_raft_members", none, 3},
		{"rdb_raft_term", none, 4},
		{"rdb_raft_apply_lag_entries", none, 3},
		{"rdb_raft_leader_changes_total", none, 2},
		{"rdb_db_size_bytes", none, 8192},
		{"rdb_db_wal_size_bytes", none, 4096},
		{"rdb_db_read_conns_in_use", none, 1},
		{"rdb_http_queued_writes", none, 7},
		{"rdb_cluster_forwarded_requests_total", none, 11},
	} {
		s := sample(fams, c.name, c.labels)
		if s == nil {
			t.Errorf("%s%v missing", c.name, c.labels)
			continue
		}
		got := s.GetGauge().GetValue() + s.GetCounter().GetValue()
		if got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if fams["go_goroutines"] == nil || fams["process_cpu_seconds_total"] == nil {
		t.Error("Go runtime or process metrics missing")
	}

	m.Open = false
	fams = scrape(t, r)
	if fams["rdb_raft_term"] != nil {
		t.Error("Raft series exported while the store is closed")
	}
	if s := sample(fams, "rdb_store_open", none); s.GetGauge().GetValue() != 0 {
		t.Error("rdb_store_open is not 0 while closed")
	}
}

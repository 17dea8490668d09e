package metrics

import (
	"errors"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/rdb/rdb/store"
)

// namespace prefixes every rdb series.
const namespace = "rdb"

// Config identifies the node in the rdb_node_info series.
type Config struct {
	NodeID  string
	Version string
}

// DefaultConfig returns a Config whose NodeID must still be set.
func DefaultConfig() Config { return Config{Version: "unknown"} }

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.NodeID == "" {
		return errors.New("metrics: empty node ID")
	}
	return nil
}

// Sources are read at every scrape; each may be nil (its series are
// then left out). They must be safe for concurrent use and quick: a
// scrape waits for them.
type Sources struct {
	// Store reads the node's Raft and database state.
	Store func() store.Metrics
	// QueuedWrites is the number of queued writes (POST
	// /db/execute?queue) waiting to be batched.
	QueuedWrites func() int
	// Forwarded counts requests forwarded to the leader so far.
	Forwarded func() int64
	// Transactions reads interactive transactions and Hrana streams.
	Transactions func() Transactions
}

// Registry is one node's metrics. It serves them over HTTP (ServeHTTP),
// observes the store's hot paths (store.Observer) and hands out
// per-endpoint request observers (Endpoint). Safe for concurrent use.
type Registry struct {
	reg     *prometheus.Registry
	handler http.Handler

	fsmApply     prometheus.Histogram
	fsmBatch     prometheus.Histogram
	logAppend    prometheus.Histogram
	logBatch     prometheus.Histogram
	snapshotTime prometheus.Histogram
	httpReqs     *prometheus.CounterVec
	httpTime     *prometheus.HistogramVec
}

var _ store.Observer = (*Registry)(nil)

// latencyBuckets span 100µs to 10s, for requests, applies and appends.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// New builds a registry with rdb's series, Go runtime and process
// metrics.
func New(cfg Config, src Sources) (*Registry, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &Registry{reg: prometheus.NewRegistry()}
	r.newInstruments()
	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newNodeCollector(cfg, src),
		r.fsmApply, r.fsmBatch, r.logAppend, r.logBatch, r.snapshotTime, r.httpReqs, r.httpTime,
	}
	if src.Transactions != nil {
		cs = append(cs, newTxCollector(src.Transactions))
	}
	for _, c := range cs {
		if err := r.reg.Register(c); err != nil {
			return nil, err
		}
	}
	r.handler = promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	return r, nil
}

func (r *Registry) newInstruments() {
	hist := func(sub, name, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: sub, Name: name, Help: help, Buckets: buckets})
	}
	sizes := prometheus.ExponentialBuckets(1, 2, 11) // 1 … 1024 entries
	r.fsmApply = hist("fsm", "apply_duration_seconds", "Time the FSM took to apply one batch of committed entries to SQLite.", latencyBuckets)
	r.fsmBatch = hist("fsm", "apply_batch_entries", "Committed entries the FSM applied per batch (one SQLite transaction where they allow).", sizes)
	r.logAppend = hist("raft", "log_append_duration_seconds", "Time to append entries to the Raft log, fsync included.", latencyBuckets)
	r.logBatch = hist("raft", "log_append_batch_entries", "Entries per Raft log append.", sizes)
	r.snapshotTime = hist("snapshot", "duration_seconds", "Time to capture and persist a snapshot; its count is the number of snapshots taken.",
		[]float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120})
	r.httpReqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: namespace, Subsystem: "http", Name: "requests_total",
		Help: "HTTP API requests served, by endpoint, method and status code.",
	}, []string{"endpoint", "method", "code"})
	r.httpTime = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
		Help: "HTTP API request latency, by endpoint and method.", Buckets: latencyBuckets,
	}, []string{"endpoint", "method"})
}

// ServeHTTP writes the metrics in the Prometheus text format (or what
// the scraper negotiates).
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.handler.ServeHTTP(w, req)
}

// Gatherer exposes the registry to exporters (OTLP) and tests.
func (r *Registry) Gatherer() prometheus.Gatherer { return r.reg }

// FSMApplied implements store.Observer.
func (r *Registry) FSMApplied(entries int, d time.Duration) {
	r.fsmApply.Observe(d.Seconds())
	r.fsmBatch.Observe(float64(entries))
}

// LogStored implements store.Observer.
func (r *Registry) LogStored(entries int, d time.Duration) {
	r.logAppend.Observe(d.Seconds())
	r.logBatch.Observe(float64(entries))
}

// SnapshotTaken implements store.Observer.
func (r *Registry) SnapshotTaken(d time.Duration) {
	r.snapshotTime.Observe(d.Seconds())
}

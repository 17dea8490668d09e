package main

import (
	"fmt"

	"github.com/rdb/rdb/cluster"
	httpd "github.com/rdb/rdb/http"
	"github.com/rdb/rdb/metrics"
	"github.com/rdb/rdb/store"
)

// newMetrics creates the node's registry. Its sources are read at scrape
// time, through the node, so they may be created after it: the HTTP
// API, and so /metrics, starts only once they exist.
func (n *node) newMetrics() error {
	mc := metrics.DefaultConfig()
	mc.NodeID, mc.Version = n.cfg.NodeID, version
	reg, err := metrics.New(mc, metrics.Sources{
		Store:        n.storeMetrics,
		QueuedWrites: n.queuedWrites,
		Forwarded:    cluster.Forwarded,
		Transactions: n.txMetrics,
	})
	if err != nil {
		return fmt.Errorf("create metrics: %w", err)
	}
	n.metrics = reg
	return nil
}

func (n *node) storeMetrics() store.Metrics {
	if n.store == nil {
		return store.Metrics{NodeID: n.cfg.NodeID}
	}
	return n.store.Metrics()
}

func (n *node) txMetrics() metrics.Transactions {
	var t metrics.Transactions
	if n.hrana != nil {
		t.StreamsOpen, t.StreamsOpened, t.StreamsExpired = n.hrana.StreamCounts()
	}
	if n.store != nil {
		c := n.store.TxCounts()
		t.Open, t.OpenAge = int(c.Open), c.OpenAge
		t.Begun, t.Committed, t.RolledBack, t.Busy, t.Aborted = c.Begun, c.Committed, c.RolledBack, c.Busy, c.Aborted
	}
	return t
}

func (n *node) queuedWrites() int {
	if n.http == nil {
		return 0
	}
	return n.http.QueuedWrites()
}

// observeHTTP mounts /metrics and per-endpoint request metrics on hc,
// and reports the OTLP flags in /status.
func (n *node) observeHTTP(hc *httpd.Config) {
	hc.Metrics = n.metrics
	hc.MetricsOpen = n.cfg.MetricsNoAuth
	hc.ObserveEndpoint = func(name string) httpd.EndpointObserver { return n.metrics.Endpoint(name) }
	if hc.Reporters == nil {
		hc.Reporters = map[string]func() (map[string]any, error){}
	}
	hc.Reporters["otlp_metrics"] = n.cfg.OTLP.status
}

package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Transactions is the state of interactive transactions and Hrana streams
// on one node, read at scrape time.
type Transactions struct {
	StreamsOpen    int
	StreamsOpened  uint64
	StreamsExpired uint64
	Open           int           // 0 or 1: the leader runs one at a time
	OpenAge        time.Duration // of the open one
	Begun          uint64
	Committed      uint64
	RolledBack     uint64
	Busy           uint64            // writes refused after waiting for a transaction
	Aborted        map[string]uint64 // by cause
}

// txCollector exports Transactions.
type txCollector struct {
	src func() Transactions

	streamsOpen, streamsOpened, streamsExpired    *prometheus.Desc
	open, openAge, begun, committed, rolled, busy *prometheus.Desc
	aborted                                       *prometheus.Desc
}

func newTxCollector(src func() Transactions) *txCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(namespace+"_"+name, help, labels, nil)
	}
	return &txCollector{
		src:            src,
		streamsOpen:    d("hrana_streams_open", "Hrana streams open on this node."),
		streamsOpened:  d("hrana_streams_opened_total", "Hrana streams opened on this node."),
		streamsExpired: d("hrana_streams_expired_total", "Hrana streams dropped because they stayed idle too long."),
		open:           d("tx_open", "Interactive transactions open (at most 1, on the leader)."),
		openAge:        d("tx_open_age_seconds", "Age of the open interactive transaction (0 when none is open)."),
		begun:          d("tx_begun_total", "Interactive transactions begun."),
		committed:      d("tx_committed_total", "Interactive transactions committed."),
		rolled:         d("tx_rolled_back_total", "Interactive transactions rolled back by their client."),
		busy:           d("tx_busy_total", "Writes refused with SQLITE_BUSY after waiting for an interactive transaction."),
		aborted:        d("tx_aborted_total", "Interactive transactions aborted, by cause.", "cause"),
	}
}

// Describe implements prometheus.Collector.
func (c *txCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.streamsOpen, c.streamsOpened, c.streamsExpired,
		c.open, c.openAge, c.begun, c.committed, c.rolled, c.busy, c.aborted} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *txCollector) Collect(ch chan<- prometheus.Metric) {
	t := c.src()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- gauge(c.streamsOpen, float64(t.StreamsOpen))
	counter(c.streamsOpened, t.StreamsOpened)
	counter(c.streamsExpired, t.StreamsExpired)
	ch <- gauge(c.open, float64(t.Open))
	ch <- gauge(c.openAge, t.OpenAge.Seconds())
	counter(c.begun, t.Begun)
	counter(c.committed, t.Committed)
	counter(c.rolled, t.RolledBack)
	counter(c.busy, t.Busy)
	for cause, n := range t.Aborted {
		counter(c.aborted, n, cause)
	}
}

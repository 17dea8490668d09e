package metrics

import (
	"testing"
	"time"
)

func TestTxCollector(t *testing.T) {
	r := newTestRegistry(t, Sources{Transactions: func() Transactions {
		return Transactions{
			StreamsOpen: 3, StreamsOpened: 10, StreamsExpired: 2,
			Open: 1, OpenAge: 1500 * time.Millisecond,
			Begun: 7, Committed: 4, RolledBack: 1, Busy: 5,
			Aborted: map[string]uint64{"idle": 1, "leadership lost": 1},
		}
	}})
	fams := scrape(t, r)
	for _, tt := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"rdb_hrana_streams_open", nil, 3},
		{"rdb_hrana_streams_opened_total", nil, 10},
		{"rdb_hrana_streams_expired_total", nil, 2},
		{"rdb_tx_open", nil, 1},
		{"rdb_tx_open_age_seconds", nil, 1.5},
		{"rdb_tx_begun_total", nil, 7},
		{"rdb_tx_committed_total", nil, 4},
		{"rdb_tx_rolled_back_total", nil, 1},
		{"rdb_tx_busy_total", nil, 5},
		{"rdb_tx_aborted_total", map[string]string{"cause": "idle"}, 1},
		{"rdb_tx_aborted_total", map[string]string{"cause": "leadership lost"}, 1},
	} {
		m := sample(fams, tt.name, tt.labels)
		if m == nil {
			t.Errorf("%s%v missing", tt.name, tt.labels)
			continue
		}
		got := m.GetCounter().GetValue() + m.GetGauge().GetValue()
		if got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	// Without a source, no transaction series.
	fams = scrape(t, newTestRegistry(t, Sources{}))
	if _, ok := fams["rdb_tx_open"]; ok {
		t.Error("rdb_tx_open exported without a Transactions source")
	}
}

package loadgen

import (
	"math/rand/v2"
	"testing"
	"time"
)

func msList(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestSummarize(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(hundred), func(i, j int) { hundred[i], hundred[j] = hundred[j], hundred[i] })
	tests := []struct {
		name string
		in   []time.Duration
		want Latency
	}{
		{"empty", nil, Latency{}},
		{"one", msList(7), Latency{Mean: 7, P50: 7, P90: 7, P99: 7, Max: 7}},
		{"1..100 shuffled", msList(hundred...), Latency{Mean: 50.5, P50: 50, P90: 90, P99: 99, Max: 100}},
		// Nearest rank on 10 values: p50 is the 5th, p90 the 9th, p99 the 10th.
		{"ten", msList(10, 1, 9, 2, 8, 3, 7, 4, 6, 5), Latency{Mean: 5.5, P50: 5, P90: 9, P99: 10, Max: 10}},
		{"outlier", msList(1, 1, 1, 1000), Latency{Mean: 250.75, P50: 1, P90: 1000, P99: 1000, Max: 1000}},
		{"sub-millisecond", []time.Duration{1500 * time.Microsecond, 250 * time.Microsecond}, Latency{Mean: 0.875, P50: 0.25, P90: 1.5, P99: 1.5, Max: 1.5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.in); got != tt.want {
				t.Fatalf("summarize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPercentile_Bounds(t *testing.T) {
	s := msList(1, 2, 3)
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0, time.Millisecond}, {33, time.Millisecond}, {34, 2 * time.Millisecond}, {100, 3 * time.Millisecond}} {
		if got := percentile(s, tt.p); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
}

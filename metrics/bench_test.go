package metrics

import (
	"io"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rdb/rdb/store"
)

// BenchmarkEndpoint_Observe is the per-request cost of the HTTP metrics.
func BenchmarkEndpoint_Observe(b *testing.B) {
	r := newTestRegistry(&testing.T{}, Sources{})
	e := r.Endpoint("/db/execute")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e.Observe("POST", 200, 3*time.Millisecond)
		}
	})
}

// BenchmarkRegistry_FSMApplied is the per-batch cost of the FSM metrics.
func BenchmarkRegistry_FSMApplied(b *testing.B) {
	r := newTestRegistry(&testing.T{}, Sources{})
	b.ReportAllocs()
	for b.Loop() {
		r.FSMApplied(8, time.Millisecond)
	}
}

// BenchmarkRegistry_Scrape is the cost of one scrape of a busy node's
// page (every endpoint, method and code seen), sources excluded.
func BenchmarkRegistry_Scrape(b *testing.B) {
	r := newTestRegistry(&testing.T{}, Sources{
		Store:        func() store.Metrics { return store.Metrics{Open: true, State: "Leader"} },
		QueuedWrites: func() int { return 0 },
		Forwarded:    func() int64 { return 0 },
	})
	for _, ep := range []string{"/db/execute", "/db/query", "/db/request", "/status", "/readyz", "/metrics"} {
		e := r.Endpoint(ep)
		for _, m := range []string{"GET", "POST"} {
			for _, c := range []int{200, 400, 401, 503} {
				e.Observe(m, c, time.Millisecond)
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/metrics", nil))
		io.Copy(io.Discard, w.Body)
	}
}

package cdc

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
)

type fakeCluster struct {
	leader atomic.Bool
	others []string
}

func (c *fakeCluster) IsLeader() bool                 { return c.leader.Load() }
func (c *fakeCluster) OtherVoters() ([]string, error) { return c.others, nil }

// tcpDialer dials plain TCP (the mux header is not needed here).
type tcpDialer struct{}

func (tcpDialer) DialContext(ctx context.Context, addr string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr)
}

type recorder struct {
	mu     sync.Mutex
	bodies []string
	status atomic.Int32
}

func (r *recorder) server(t *testing.T) *httptest.Server {
	r.status.Store(200)
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		st := int(r.status.Load())
		if st == 200 {
			r.mu.Lock()
			r.bodies = append(r.bodies, string(b))
			r.mu.Unlock()
		}
		w.WriteHeader(st)
	}))
	t.Cleanup(s.Close)
	return s
}

func (r *recorder) indexes() []uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []uint64
	for _, b := range r.bodies {
		var env struct {
			Payload []struct{ Index uint64 } `json:"payload"`
		}
		json.Unmarshal([]byte(b), &env)
		for _, p := range env.Payload {
			out = append(out, p.Index)
		}
	}
	return out
}

func changes(idx ...uint64) []db.EntryChanges {
	out := make([]db.EntryChanges, len(idx))
	for i, x := range idx {
		out[i] = db.EntryChanges{Index: x, CommitTime: time.UnixMilli(1), Changes: []db.RowChange{
			{Op: db.ChangeInsert, Table: "t", NewRowID: int64(x), Columns: []string{"id"}, After: []any{int64(x)}}}}
	}
	return out
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func newTestService(t *testing.T, cfg *Config, cl Cluster, ln net.Listener) *Service {
	t.Helper()
	s, err := New(cfg, "n1", t.TempDir(), cl, ln, tcpDialer{}, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestService_OnlyLeaderSends_HWMReachesFollower(t *testing.T) {
	var rec recorder
	srv := rec.server(t)
	cfg := DefaultConfig(srv.URL)
	cfg.MaxBatchDelay, cfg.HighWatermarkInterval = 10*time.Millisecond, 50*time.Millisecond

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	follower := newTestService(t, cfg, &fakeCluster{}, ln)
	leaderCl := &fakeCluster{others: []string{ln.Addr().String()}}
	leader := newTestService(t, cfg, leaderCl, nil)
	follower.Start()
	leader.Start()

	follower.Capture(changes(1, 2, 3))
	leader.Capture(changes(1, 2, 3))
	time.Sleep(300 * time.Millisecond)
	if got := rec.indexes(); len(got) != 0 {
		t.Fatalf("sent %v with no leader", got)
	}
	leaderCl.leader.Store(true)
	waitUntil(t, "3 indexes delivered", func() bool { return len(rec.indexes()) == 3 })
	waitUntil(t, "follower's high-water mark", func() bool { return follower.hwm.Load() == 3 })
	if n, _ := follower.fifo.countAfter(0); n != 0 {
		t.Fatalf("follower queue holds %d after the high-water mark", n)
	}
	// Later events at or below the mark are dropped by the follower.
	follower.Capture(changes(2))
	if n, _ := follower.fifo.countAfter(0); n != 0 {
		t.Fatal("follower queued an index below the high-water mark")
	}
	st := leader.Status()
	if st["highwater_mark"] != uint64(3) || st["is_leader"] != true || st["sink"] != srv.URL {
		t.Fatalf("status %v", st)
	}
}

func TestService_RetriesThenDrops(t *testing.T) {
	var rec recorder
	srv := rec.server(t)
	rec.status.Store(500)
	cfg := DefaultConfig(srv.URL)
	cfg.MaxBatchDelay, cfg.TransmitMinBackoff, cfg.TransmitMaxBackoff = time.Millisecond, 5*time.Millisecond, 10*time.Millisecond
	two := 2
	cfg.TransmitMaxRetries = &two
	cl := &fakeCluster{}
	cl.leader.Store(true)
	s := newTestService(t, cfg, cl, nil)
	counter := func(k string) int64 { return stats().Get(k).(interface{ Value() int64 }).Value() }
	dropped, failures := counter(numBatchesDropped), counter(numSendFailures)
	s.Start()
	s.Capture(changes(1))
	waitUntil(t, "batch dropped after 2 attempts", func() bool { return s.hwm.Load() == 1 })
	if d, f := counter(numBatchesDropped)-dropped, counter(numSendFailures)-failures; d != 1 || f != 2 {
		t.Errorf("cdc.service counters: %d dropped, %d failures; want 1 and 2", d, f)
	}
	rec.status.Store(200)
	s.Capture(changes(2))
	waitUntil(t, "next batch delivered", func() bool { return len(rec.indexes()) == 1 })
	if got := rec.indexes(); got[0] != 2 {
		t.Fatalf("delivered %v, want [2]", got)
	}
}

func TestService_RestartResendsQueued(t *testing.T) {
	var rec recorder
	srv := rec.server(t)
	cfg := DefaultConfig(srv.URL)
	cfg.MaxBatchDelay = time.Millisecond
	dir := t.TempDir()
	cl := &fakeCluster{}
	s, err := New(cfg, "n1", dir, cl, nil, nil, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Capture(changes(4, 5))
	s.Close()
	cl.leader.Store(true)
	s, err = New(cfg, "n1", dir, cl, nil, nil, io.Discard, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.hwm.Load() != 3 {
		t.Fatalf("start HWM %d, want first queued - 1 = 3", s.hwm.Load())
	}
	s.Start()
	waitUntil(t, "queued entries resent", func() bool { return len(rec.indexes()) == 2 })
}

package httpd

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

const (
	testVersion = "v10.3.0"
	testAdvAddr = "localhost:4001"
	testLeader  = "localhost:4002"
)

type dbFn func(ctx context.Context, req *store.Request) (store.Response, error)

// fakeDatabase is a function-field fake; nil functions succeed with no
// results.
type fakeDatabase struct {
	executeFn, queryFn, requestFn dbFn
	removeFn                      func(ctx context.Context, id string) (string, error)
	stepdownFn                    func(ctx context.Context, id string, wait bool) (string, error)
}

func (f *fakeDatabase) Remove(ctx context.Context, id string) (string, error) {
	if f.removeFn == nil {
		return "", nil
	}
	return f.removeFn(ctx, id)
}

func (f *fakeDatabase) Stepdown(ctx context.Context, id string, wait bool) (string, error) {
	if f.stepdownFn == nil {
		return "", nil
	}
	return f.stepdownFn(ctx, id, wait)
}

func call(fn dbFn, ctx context.Context, req *store.Request) (store.Response, error) {
	if fn == nil {
		return store.Response{}, nil
	}
	return fn(ctx, req)
}

func (f *fakeDatabase) Execute(ctx context.Context, req *store.Request) (store.Response, error) {
	return call(f.executeFn, ctx, req)
}

func (f *fakeDatabase) Query(ctx context.Context, req *store.Request) (store.Response, error) {
	return call(f.queryFn, ctx, req)
}

func (f *fakeDatabase) Request(ctx context.Context, req *store.Request) (store.Response, error) {
	return call(f.requestFn, ctx, req)
}

// fakeStore is a function-field fake; nil functions describe an open,
// ready node that knows testLeader.
type fakeStore struct {
	isOpenFn      func() bool
	readyFn       func() bool
	leaderAddrFn  func() string
	statsFn       func() (map[string]any, error)
	waitForSyncFn func(ctx context.Context) error
	pingFn        func(ctx context.Context) error
}

func (f *fakeStore) IsOpen() bool {
	if f.isOpenFn == nil {
		return true
	}
	return f.isOpenFn()
}

func (f *fakeStore) Ready() bool {
	if f.readyFn == nil {
		return true
	}
	return f.readyFn()
}

func (f *fakeStore) LeaderAddr() string {
	if f.leaderAddrFn == nil {
		return testLeader
	}
	return f.leaderAddrFn()
}

func (f *fakeStore) Stats() (map[string]any, error) {
	if f.statsFn == nil {
		return map[string]any{"open": true, "node_id": "1"}, nil
	}
	return f.statsFn()
}

func (f *fakeStore) WaitForSync(ctx context.Context) error {
	if f.waitForSyncFn == nil {
		return nil
	}
	return f.waitForSyncFn(ctx)
}

func (f *fakeStore) Ping(ctx context.Context) error {
	if f.pingFn == nil {
		return nil
	}
	return f.pingFn(ctx)
}

// fakeCluster is a function-field fake; nil functions describe a
// one-node cluster led by testLeader.
type fakeCluster struct {
	nodesFn         func(ctx context.Context, nonVoters bool) ([]cluster.Node, error)
	leaderAPIAddrFn func(ctx context.Context) (string, error)
}

func (f *fakeCluster) Nodes(ctx context.Context, nonVoters bool) ([]cluster.Node, error) {
	if f.nodesFn == nil {
		return []cluster.Node{{ID: "1", APIAddr: "http://" + testAdvAddr, Addr: testLeader,
			Version: testVersion, Voter: true, Reachable: true, Leader: true}}, nil
	}
	return f.nodesFn(ctx, nonVoters)
}

func (f *fakeCluster) LeaderAPIAddr(ctx context.Context) (string, error) {
	if f.leaderAPIAddrFn == nil {
		return "http://" + testAdvAddr, nil
	}
	return f.leaderAPIAddrFn(ctx)
}

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.Addr = "127.0.0.1:0"
	cfg.AdvAddr = testAdvAddr
	cfg.Version = testVersion
	return cfg
}

// fakes bundles the three dependencies; zero values are usable.
type fakes struct {
	db      fakeDatabase
	store   fakeStore
	cluster fakeCluster
}

// newTestService builds a Service over f and closes it at cleanup.
func newTestService(t *testing.T, cfg Config, f *fakes) *Service {
	t.Helper()
	if f == nil {
		f = &fakes{}
	}
	s, err := New(cfg, &f.db, &f.store, &f.cluster, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// do sends one request through the service's handler. hdr is
// alternating header names and values.
func do(t *testing.T, s *Service, method, target, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	s.handler().ServeHTTP(w, req)
	return w
}

// doBench is do for benchmarks; it returns the status.
func doBench(s *Service, method, target, body string) int {
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	w := httptest.NewRecorder()
	s.handler().ServeHTTP(w, req)
	return w.Code
}

// check asserts status and exact body.
func check(t *testing.T, w *httptest.ResponseRecorder, wantCode int, wantBody string) {
	t.Helper()
	if got := w.Code; got != wantCode {
		t.Errorf("status = %d, want %d (body %q)", got, wantCode, w.Body.String())
	}
	if got := w.Body.String(); got != wantBody {
		t.Errorf("body =\n%s\nwant\n%s", got, wantBody)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(time.Millisecond)
	}
}

// recorder collects the requests a fake Database received.
type recorder struct {
	mu   sync.Mutex
	reqs []*store.Request
}

func (r *recorder) add(req *store.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.reqs = append(r.reqs, req)
}

func (r *recorder) all() []*store.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*store.Request(nil), r.reqs...)
}

// serve starts s on a 127.0.0.1:0 listener and returns its base URL.
func serve(t *testing.T, s *Service) string {
	t.Helper()
	if err := s.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	return "http://" + s.Addr().String()
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(b)
}

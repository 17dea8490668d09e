package cluster

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/mux"
	"github.com/rdb/rdb/store"
)

// fakeLocal is a function-field fake of Local; a nil field gives a zero
// answer (no leader, no error).
type fakeLocal struct {
	executeFn   func(context.Context, *store.Request) (store.Response, error)
	queryFn     func(context.Context, *store.Request) (store.Response, error)
	requestFn   func(context.Context, *store.Request) (store.Response, error)
	leaderAddr  func() string
	leaderID    func() string
	serversFn   func() ([]store.Server, error)
	joinFn      func(id, addr string, voter bool) error
	removeFn    func(id string) error
	stepdownFn  func(ctx context.Context, id string, wait bool) error
	bootstrapFn func(servers ...store.Server) error
	hasStateFn  func() (bool, error)
}

func storeCall(fn func(context.Context, *store.Request) (store.Response, error),
	ctx context.Context, r *store.Request) (store.Response, error) {
	if fn == nil {
		return store.Response{}, nil
	}
	return fn(ctx, r)
}

func (f *fakeLocal) Execute(ctx context.Context, r *store.Request) (store.Response, error) {
	return storeCall(f.executeFn, ctx, r)
}
func (f *fakeLocal) Query(ctx context.Context, r *store.Request) (store.Response, error) {
	return storeCall(f.queryFn, ctx, r)
}
func (f *fakeLocal) Request(ctx context.Context, r *store.Request) (store.Response, error) {
	return storeCall(f.requestFn, ctx, r)
}
func (f *fakeLocal) LeaderAddr() string {
	if f.leaderAddr == nil {
		return ""
	}
	return f.leaderAddr()
}
func (f *fakeLocal) LeaderID() string {
	if f.leaderID == nil {
		return ""
	}
	return f.leaderID()
}
func (f *fakeLocal) Servers() ([]store.Server, error) {
	if f.serversFn == nil {
		return nil, nil
	}
	return f.serversFn()
}
func (f *fakeLocal) Join(id, addr string, voter bool) error {
	if f.joinFn == nil {
		return nil
	}
	return f.joinFn(id, addr, voter)
}
func (f *fakeLocal) Remove(id string) error {
	if f.removeFn == nil {
		return nil
	}
	return f.removeFn(id)
}
func (f *fakeLocal) Stepdown(ctx context.Context, id string, wait bool) error {
	if f.stepdownFn == nil {
		return nil
	}
	return f.stepdownFn(ctx, id, wait)
}
func (f *fakeLocal) Bootstrap(servers ...store.Server) error {
	if f.bootstrapFn == nil {
		return nil
	}
	return f.bootstrapFn(servers...)
}
func (f *fakeLocal) HasState() (bool, error) {
	if f.hasStateFn == nil {
		return false, nil
	}
	return f.hasStateFn()
}

func constant(s string) func() string { return func() string { return s } }

// notLeader is a store call that always reports store.ErrNotLeader.
func notLeader(context.Context, *store.Request) (store.Response, error) {
	return store.Response{}, store.ErrNotLeader
}

// listen returns a listener on a free loopback port, closed at cleanup.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// newTestClient returns a Client closed at cleanup.
func newTestClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(DefaultClientConfig())
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// startMux serves a Mux on ln until cleanup.
func startMux(t *testing.T, ln net.Listener, cfg mux.Config) *mux.Mux {
	t.Helper()
	m, err := mux.New(ln, cfg, nil)
	if err != nil {
		t.Fatalf("new mux: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Serve() }()
	t.Cleanup(func() {
		m.Close()
		if err := <-done; err != nil {
			t.Errorf("mux serve: %v", err)
		}
	})
	return m
}

// startServer serves h on m's RPC listener until cleanup.
func startServer(t *testing.T, m *mux.Mux, h Handler) *Server {
	t.Helper()
	s := NewServer(m.Listener(mux.HeaderRPC), h, nil)
	done := make(chan error, 1)
	go func() { done <- s.Serve() }()
	t.Cleanup(func() {
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("rpc serve: %v", err)
		}
	})
	return s
}

// testNode is one node's cluster side on a real loopback port.
type testNode struct {
	id     string
	addr   string
	svc    *Service
	client *Client
	proxy  *Proxy
}

// startNode runs a Service for local on ln; tweak may adjust its Config.
func startNode(t *testing.T, ln net.Listener, id string, local Local, tweak func(*Config)) *testNode {
	t.Helper()
	cfg := DefaultConfig()
	cfg.NodeID, cfg.RaftAddr, cfg.APIURL, cfg.Version = id, ln.Addr().String(), "http://api-"+id, "v-"+id
	if tweak != nil {
		tweak(&cfg)
	}
	client := newTestClient(t)
	proxy := NewProxy(local, client)
	svc, err := NewService(cfg, proxy, nil)
	if err != nil {
		t.Fatalf("new service: %v", err)
	}
	m := startMux(t, ln, mux.DefaultConfig())
	startServer(t, m, svc.Handler())
	return &testNode{id: id, addr: cfg.RaftAddr, svc: svc, client: client, proxy: proxy}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond) // polling interval, not a wait for an event
	}
}

// errorsIs is errors.Is for table fields that may be nil.
func errorsIs(err, target error) bool {
	if target == nil {
		return err == nil
	}
	return errors.Is(err, target)
}

// recorder collects values from concurrent handlers.
type recorder[T any] struct {
	mu   sync.Mutex
	vals []T
}

func (r *recorder[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.vals = append(r.vals, v)
}

func (r *recorder[T]) get() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]T(nil), r.vals...)
}

func TestMain(m *testing.M) {
	// Calls without a leader wait for an election in production; tests of
	// that path should not wait seconds each.
	leaderWait = 100 * time.Millisecond
	os.Exit(m.Run())
}

package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/internal/mux"
	"github.com/rdb/rdb/store"
)

// fakeHandler is a function-field fake of Handler; nil fields succeed.
type fakeHandler struct {
	metaFn     func(context.Context) (NodeMeta, error)
	joinFn     func(context.Context, JoinRequest) (string, error)
	notifyFn   func(context.Context, NotifyRequest) error
	removeFn   func(context.Context, string) error
	stepdownFn func(context.Context, StepdownRequest) error
	storeFn    func(context.Context, op, *store.Request) (store.Response, error)
}

func (f *fakeHandler) Meta(ctx context.Context) (NodeMeta, error) {
	if f.metaFn == nil {
		return NodeMeta{}, nil
	}
	return f.metaFn(ctx)
}
func (f *fakeHandler) Join(ctx context.Context, r JoinRequest) (string, error) {
	if f.joinFn == nil {
		return "", nil
	}
	return f.joinFn(ctx, r)
}
func (f *fakeHandler) Notify(ctx context.Context, r NotifyRequest) error {
	if f.notifyFn == nil {
		return nil
	}
	return f.notifyFn(ctx, r)
}
func (f *fakeHandler) Remove(ctx context.Context, id string) error {
	if f.removeFn == nil {
		return nil
	}
	return f.removeFn(ctx, id)
}
func (f *fakeHandler) Stepdown(ctx context.Context, r StepdownRequest) error {
	if f.stepdownFn == nil {
		return nil
	}
	return f.stepdownFn(ctx, r)
}
func (f *fakeHandler) store(ctx context.Context, o op, r *store.Request) (store.Response, error) {
	if f.storeFn == nil {
		return store.Response{}, nil
	}
	return f.storeFn(ctx, o, r)
}
func (f *fakeHandler) Execute(ctx context.Context, r *store.Request) (store.Response, error) {
	return f.store(ctx, opExecute, r)
}
func (f *fakeHandler) Query(ctx context.Context, r *store.Request) (store.Response, error) {
	return f.store(ctx, opQuery, r)
}
func (f *fakeHandler) Request(ctx context.Context, r *store.Request) (store.Response, error) {
	return f.store(ctx, opRequest, r)
}

// call is what the recording handler saw.
type call struct {
	op    string
	args  any
	creds Credentials
}

func recordingHandler(rec *recorder[call]) *fakeHandler {
	seen := func(ctx context.Context, o string, args any) {
		creds, _ := CredentialsFrom(ctx)
		rec.add(call{o, args, creds})
	}
	return &fakeHandler{
		metaFn: func(ctx context.Context) (NodeMeta, error) {
			seen(ctx, "meta", nil)
			return NodeMeta{ID: "n1", APIURL: "https://n1:4001", Version: "v9"}, nil
		},
		joinFn: func(ctx context.Context, r JoinRequest) (string, error) {
			seen(ctx, "join", r)
			return "leader:4002", nil
		},
		notifyFn:   func(ctx context.Context, r NotifyRequest) error { seen(ctx, "notify", r); return nil },
		removeFn:   func(ctx context.Context, id string) error { seen(ctx, "remove", id); return nil },
		stepdownFn: func(ctx context.Context, r StepdownRequest) error { seen(ctx, "stepdown", r); return nil },
		storeFn: func(ctx context.Context, o op, r *store.Request) (store.Response, error) {
			seen(ctx, o.String(), r.Statements[0].SQL)
			return store.Response{Results: []db.Result{{LastInsertID: 3, RowsAffected: 1}}, RaftIndex: 9}, nil
		},
	}
}

func TestRPC_EveryOp(t *testing.T) {
	rec := &recorder[call]{}
	m := startMux(t, listen(t), mux.DefaultConfig())
	startServer(t, m, recordingHandler(rec))
	c := newTestClient(t)
	addr := m.Addr().String()
	creds := Credentials{Username: "alice", Password: "secret"}
	ctx := WithCredentials(t.Context(), creds.Username, creds.Password)
	sreq := &store.Request{Request: db.Request{Statements: []db.Statement{{SQL: "INSERT 1"}}}}
	wantResp := store.Response{Results: []db.Result{{LastInsertID: 3, RowsAffected: 1}}, RaftIndex: 9}

	checkStore := func(r store.Response, err error) (any, error) {
		if err == nil && !reflect.DeepEqual(r, wantResp) {
			return nil, fmt.Errorf("response: got %+v, want %+v", r, wantResp)
		}
		return nil, err
	}
	tests := []struct {
		name     string
		do       func() (any, error)
		wantRes  any
		wantArgs any
	}{
		{"meta", func() (any, error) { return c.Meta(ctx, addr) },
			NodeMeta{ID: "n1", APIURL: "https://n1:4001", Version: "v9"}, nil},
		{"join", func() (any, error) { return c.Join(ctx, addr, JoinRequest{ID: "n2", Addr: "h2:4002", Voter: true}) },
			"leader:4002", JoinRequest{ID: "n2", Addr: "h2:4002", Voter: true}},
		{"notify", func() (any, error) { return nil, c.Notify(ctx, addr, NotifyRequest{ID: "n3", Addr: "h3:4002"}) },
			nil, NotifyRequest{ID: "n3", Addr: "h3:4002"}},
		{"remove", func() (any, error) { return nil, c.Remove(ctx, addr, "n4") }, nil, "n4"},
		{"stepdown", func() (any, error) { return nil, c.Stepdown(ctx, addr, StepdownRequest{ID: "n5", Wait: true}) },
			nil, StepdownRequest{ID: "n5", Wait: true}},
		{"execute", func() (any, error) { return checkStore(c.Execute(ctx, addr, sreq)) }, nil, "INSERT 1"},
		{"query", func() (any, error) { return checkStore(c.Query(ctx, addr, sreq)) }, nil, "INSERT 1"},
		{"request", func() (any, error) { return checkStore(c.Request(ctx, addr, sreq)) }, nil, "INSERT 1"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.do()
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if !reflect.DeepEqual(got, tt.wantRes) {
				t.Errorf("result: got %#v, want %#v", got, tt.wantRes)
			}
			calls := rec.get()
			if len(calls) != i+1 {
				t.Fatalf("handler calls: got %d, want %d", len(calls), i+1)
			}
			want := call{tt.name, tt.wantArgs, creds}
			if got := calls[i]; !reflect.DeepEqual(got, want) {
				t.Errorf("handler saw %+v, want %+v", got, want)
			}
		})
	}
}

func TestRPC_NoCredentials(t *testing.T) {
	var got []bool
	var mu sync.Mutex
	m := startMux(t, listen(t), mux.DefaultConfig())
	startServer(t, m, &fakeHandler{metaFn: func(ctx context.Context) (NodeMeta, error) {
		_, ok := CredentialsFrom(ctx)
		mu.Lock()
		got = append(got, ok)
		mu.Unlock()
		return NodeMeta{}, nil
	}})
	if _, err := newTestClient(t).Meta(t.Context(), m.Addr().String()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] {
		t.Errorf("credentials present without WithCredentials: %v", got)
	}
}

func TestRPC_ErrorsRestored(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"not leader", store.ErrNotLeader, store.ErrNotLeader},
		{"stale read", fmt.Errorf("read: %w", store.ErrStaleRead), store.ErrStaleRead},
		{"disallowed pragma", db.ErrDisallowedPragma, db.ErrDisallowedPragma},
		{"fsm timeout", fmt.Errorf("index 12: %w", store.ErrFSMTimeout), store.ErrFSMTimeout},
	}
	byName := map[string]error{}
	for _, tt := range tests {
		byName[tt.name] = tt.err
	}
	m := startMux(t, listen(t), mux.DefaultConfig())
	startServer(t, m, &fakeHandler{storeFn: func(_ context.Context, _ op, r *store.Request) (store.Response, error) {
		return store.Response{}, byName[r.Statements[0].SQL]
	}})
	c := newTestClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &store.Request{Request: db.Request{Statements: []db.Statement{{SQL: tt.name}}}}
			_, err := c.Query(t.Context(), m.Addr().String(), req)
			if !errors.Is(err, tt.want) || err.Error() != tt.err.Error() {
				t.Errorf("got %v, want %q matching %v", err, tt.err, tt.want)
			}
		})
	}
}

func TestClient_Timeout(t *testing.T) {
	handlerDone := make(chan error, 1)
	m := startMux(t, listen(t), mux.DefaultConfig())
	startServer(t, m, &fakeHandler{metaFn: func(ctx context.Context) (NodeMeta, error) {
		<-ctx.Done() // the caller's deadline travels with the request
		handlerDone <- ctx.Err()
		return NodeMeta{}, ctx.Err()
	}})
	c := newTestClient(t)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Meta(ctx, m.Addr().String())
	if !errors.Is(err, ErrNodeTimeout) {
		t.Errorf("got %v, want ErrNodeTimeout", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("call took %v with a 200ms deadline", d)
	}
	select {
	case err := <-handlerDone:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("handler context: got %v, want deadline exceeded", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("handler context never ended")
	}
}

func TestClient_Cancel(t *testing.T) {
	release := make(chan struct{})
	m := startMux(t, listen(t), mux.DefaultConfig())
	startServer(t, m, &fakeHandler{metaFn: func(ctx context.Context) (NodeMeta, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return NodeMeta{}, nil
	}})
	defer close(release)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := newTestClient(t).Meta(ctx, m.Addr().String())
		errc <- err
	}()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("got %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled call did not return")
	}
}

func TestClient_Unreachable(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	_, err := newTestClient(t).Meta(t.Context(), addr)
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Errorf("got %v, want a dial error", err)
	}
}

// trackingListener records the server side of every connection.
type trackingListener struct {
	net.Listener
	conns recorder[net.Conn]
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.conns.add(c)
	}
	return c, err
}

func TestClient_ReconnectsAfterPeerClosed(t *testing.T) {
	m := startMux(t, listen(t), mux.DefaultConfig())
	tl := &trackingListener{Listener: m.Listener(mux.HeaderRPC)}
	executes := 0
	var mu sync.Mutex
	s := NewServer(tl, &fakeHandler{storeFn: func(context.Context, op, *store.Request) (store.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		executes++
		return store.Response{RaftIndex: uint64(executes)}, nil
	}}, nil)
	go s.Serve()
	t.Cleanup(func() { s.Close() })
	c := newTestClient(t)
	addr := m.Addr().String()

	if _, err := c.Execute(t.Context(), addr, &store.Request{}); err != nil {
		t.Fatal(err)
	}
	for _, sc := range tl.conns.get() { // the peer restarts, say
		sc.Close()
	}
	c.mu.Lock()
	pooled := append([]net.Conn(nil), c.idle[addr]...)
	c.mu.Unlock()
	if len(pooled) != 1 {
		t.Fatalf("pooled connections: got %d, want 1", len(pooled))
	}
	waitFor(t, 5*time.Second, "pooled connection to see the close", func() bool { return !connAlive(pooled[0]) })

	before := statValue(numClientForceNewConn)
	got, err := c.Execute(t.Context(), addr, &store.Request{})
	if err != nil {
		t.Fatalf("execute after the peer closed its end: %v", err)
	}
	if got.RaftIndex != 2 {
		t.Errorf("executions: got %d, want 2 (exactly once each)", got.RaftIndex)
	}
	if after := statValue(numClientForceNewConn); after != before+1 {
		t.Errorf("num_client_force_new_conn: got +%d, want +1", after-before)
	}
}

func TestClient_Concurrent(t *testing.T) {
	m := startMux(t, listen(t), mux.DefaultConfig())
	startServer(t, m, &fakeHandler{storeFn: func(_ context.Context, _ op, r *store.Request) (store.Response, error) {
		return store.Response{Results: []db.Result{{Error: r.Statements[0].SQL}}}, nil
	}})
	c := newTestClient(t)
	addr := m.Addr().String()
	const workers, calls = 16, 10
	errs := make(chan error, workers*calls)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range calls {
				sql := fmt.Sprintf("w%d-%d", w, i)
				r, err := c.Query(t.Context(), addr, &store.Request{Request: db.Request{Statements: []db.Statement{{SQL: sql}}}})
				if err == nil && r.Results[0].Error != sql {
					err = fmt.Errorf("got answer %q for %q", r.Results[0].Error, sql)
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	c.mu.Lock()
	idle := len(c.idle[addr])
	c.mu.Unlock()
	if idle < 1 || idle > DefaultClientConfig().MaxIdlePerAddr {
		t.Errorf("idle connections: got %d, want 1..%d", idle, DefaultClientConfig().MaxIdlePerAddr)
	}
	c.Close()
	if _, err := c.Meta(t.Context(), addr); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: got %v, want ErrClosed", err)
	}
}

func TestServer_HandlerPanic(t *testing.T) {
	m := startMux(t, listen(t), mux.DefaultConfig())
	startServer(t, m, &fakeHandler{metaFn: func(context.Context) (NodeMeta, error) { panic("bug") }})
	c := newTestClient(t)
	for range 2 { // the server survives and answers again
		if _, err := c.Meta(t.Context(), m.Addr().String()); err == nil || err.Error() != "meta: internal error" {
			t.Fatalf("got %v, want the error %q", err, "meta: internal error")
		}
	}
}

package cluster

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

type storeFunc = func(context.Context, *store.Request) (store.Response, error)

// proxyCalls lists Proxy's three request methods.
func proxyCalls(p *Proxy) []struct {
	name string
	fn   storeFunc
} {
	return []struct {
		name string
		fn   storeFunc
	}{{"execute", p.Execute}, {"query", p.Query}, {"request", p.Request}}
}

func TestProxy_Local(t *testing.T) {
	ok := store.Response{Results: []db.Result{{RowsAffected: 1}}, RaftIndex: 7}
	tests := []struct {
		name    string
		err     error
		leader  string
		noFwd   bool
		wantErr error
	}{
		{"served locally", nil, "a:1", false, nil},
		{"other errors pass through", store.ErrStaleRead, "", false, store.ErrStaleRead},
		{"not leader, no leader known", store.ErrNotLeader, "", false, store.ErrLeaderNotFound},
		{"not leader, no client", store.ErrNotLeader, "b:1", false, store.ErrNotLeader},
		{"not leader, without forwarding", store.ErrNotLeader, "b:1", true, store.ErrNotLeader},
		{"not leader, without forwarding, no leader", store.ErrNotLeader, "", true, store.ErrLeaderNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			serve := func(context.Context, *store.Request) (store.Response, error) {
				if tt.err != nil {
					return store.Response{}, tt.err
				}
				return ok, nil
			}
			f := &fakeLocal{executeFn: serve, queryFn: serve, requestFn: serve, leaderAddr: constant(tt.leader)}
			p := NewProxy(f, nil) // a nil client must never be used
			ctx := t.Context()
			if tt.noFwd {
				ctx = WithoutForwarding(ctx)
			}
			for _, c := range proxyCalls(p) {
				got, err := c.fn(ctx, &store.Request{})
				if !errorsIs(err, tt.wantErr) {
					t.Fatalf("%s: err: got %v, want %v", c.name, err, tt.wantErr)
				}
				if err == nil && (got.RaftIndex != 7 || got.ServedBy != "") {
					t.Fatalf("%s: response not relayed as served locally: %+v", c.name, got)
				}
			}
		})
	}
}

// leaderAndFollower starts a leader node whose store calls run serve, and
// returns a Proxy of a follower that knows the leader.
func leaderAndFollower(t *testing.T, serve storeFunc) (leader *testNode, follower *Proxy) {
	t.Helper()
	ln := listen(t)
	leaderLocal := &fakeLocal{executeFn: serve, queryFn: serve, requestFn: serve, leaderAddr: constant(ln.Addr().String())}
	leader = startNode(t, ln, "leader", leaderLocal, nil)
	followerLocal := &fakeLocal{executeFn: notLeader, queryFn: notLeader, requestFn: notLeader, leaderAddr: constant(leader.addr)}
	return leader, NewProxy(followerLocal, newTestClient(t))
}

func TestProxy_ForwardsToLeader(t *testing.T) {
	seen := &recorder[Credentials]{}
	leader, p := leaderAndFollower(t, func(ctx context.Context, r *store.Request) (store.Response, error) {
		creds, _ := CredentialsFrom(ctx)
		seen.add(creds)
		return store.Response{Results: []db.Result{{Rows: true, Columns: []string{"v"}, Types: []string{"blob"},
			Values: [][]any{{r.Statements[0].Parameters[0].Value}}}}, RaftIndex: 11}, nil
	})
	ctx := WithCredentials(t.Context(), "bob", "pw")
	for _, c := range proxyCalls(p) {
		t.Run(c.name, func(t *testing.T) {
			req := &store.Request{Request: db.Request{Statements: []db.Statement{
				{SQL: "SELECT ?", Parameters: []db.Parameter{{Value: []byte{1, 2}}}},
			}}}
			got, err := c.fn(ctx, req)
			if err != nil {
				t.Fatalf("forward: %v", err)
			}
			want := store.Response{Results: []db.Result{{Rows: true, Columns: []string{"v"}, Types: []string{"blob"},
				Values: [][]any{{[]byte{1, 2}}}}}, RaftIndex: 11, ServedBy: leader.addr}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("response:\n got %+v\nwant %+v", got, want)
			}
		})
	}
	for i, got := range seen.get() {
		if want := (Credentials{Username: "bob", Password: "pw"}); got != want {
			t.Errorf("call %d: leader saw credentials %+v, want %+v", i, got, want)
		}
	}
	if got := len(seen.get()); got != 3 {
		t.Errorf("leader served %d calls, want 3", got)
	}
}

func TestProxy_ForwardRestoresErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"disallowed pragma", db.ErrDisallowedPragma, db.ErrDisallowedPragma},
		{"stale read", store.ErrStaleRead, store.ErrStaleRead},
		{"apply timeout", fmt.Errorf("apply: %w", store.ErrApplyTimeout), store.ErrApplyTimeout},
		{"fsm timeout", fmt.Errorf("index 5: %w", store.ErrFSMTimeout), store.ErrFSMTimeout},
		{"store not ready", store.ErrNotReady, store.ErrNotReady},
		{"leadership lost", fmt.Errorf("apply: %w", store.ErrLeadershipLost), store.ErrLeadershipLost},
	}
	byName := map[string]error{}
	for _, tt := range tests {
		byName[tt.name] = tt.err
	}
	_, p := leaderAndFollower(t, func(_ context.Context, r *store.Request) (store.Response, error) {
		return store.Response{}, byName[r.Statements[0].SQL]
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Execute(t.Context(), &store.Request{Request: db.Request{Statements: []db.Statement{{SQL: tt.name}}}})
			if !errors.Is(err, tt.want) || err.Error() != tt.err.Error() {
				t.Errorf("got %v, want %q matching %v", err, tt.err, tt.want)
			}
		})
	}
}

// TestProxy_LeadershipLostNotRetried: a forwarded write whose leader lost
// leadership while committing may still commit, so the follower reports
// store.ErrLeadershipLost once and never sends it again, even when another
// leader is known by then.
func TestProxy_LeadershipLostNotRetried(t *testing.T) {
	var served atomic.Int64
	lnA, lnB := listen(t), listen(t)
	bAddr := lnB.Addr().String()
	notLeader := func(context.Context, *store.Request) (store.Response, error) {
		return store.Response{}, store.ErrNotLeader
	}
	lost := func(context.Context, *store.Request) (store.Response, error) {
		served.Add(1)
		return store.Response{}, fmt.Errorf("apply: %w", store.ErrLeadershipLost)
	}
	a := &fakeLocal{executeFn: notLeader, leaderAddr: constant(bAddr)}
	b := &fakeLocal{executeFn: lost, leaderAddr: constant(bAddr)}
	nodeA := startNode(t, lnA, "a", a, nil)
	startNode(t, lnB, "b", b, nil)

	_, err := nodeA.proxy.Execute(t.Context(), &store.Request{})
	if !errors.Is(err, store.ErrLeadershipLost) {
		t.Errorf("got %v, want ErrLeadershipLost", err)
	}
	if got := served.Load(); got != 1 {
		t.Errorf("leader calls: got %d, want 1", got)
	}
}

// TestProxy_StaleLeader: the node a follower believes leads is not the
// leader and believes the follower is. The request must not bounce.
func TestProxy_StaleLeader(t *testing.T) {
	var served atomic.Int64
	lnA, lnB := listen(t), listen(t)
	aAddr, bAddr := lnA.Addr().String(), lnB.Addr().String()
	count := func(context.Context, *store.Request) (store.Response, error) {
		served.Add(1)
		return store.Response{}, store.ErrNotLeader
	}
	a := &fakeLocal{executeFn: count, leaderAddr: constant(bAddr)}
	b := &fakeLocal{executeFn: count, leaderAddr: constant(aAddr)}
	nodeA := startNode(t, lnA, "a", a, nil)
	startNode(t, lnB, "b", b, nil)

	_, err := nodeA.proxy.Execute(t.Context(), &store.Request{})
	if !errors.Is(err, store.ErrLeaderNotFound) {
		t.Errorf("got %v, want ErrLeaderNotFound", err)
	}
	if got := served.Load(); got != 2 {
		t.Errorf("store calls: got %d, want 2 (local, then the supposed leader once)", got)
	}
}

func TestProxy_RemoveAndStepdown(t *testing.T) {
	removed := &recorder[string]{}
	stepped := &recorder[StepdownRequest]{}
	ln := listen(t)
	leaderLocal := &fakeLocal{
		leaderAddr: constant(ln.Addr().String()),
		removeFn:   func(id string) error { removed.add(id); return nil },
		stepdownFn: func(_ context.Context, id string, wait bool) error {
			stepped.add(StepdownRequest{ID: id, Wait: wait})
			return nil
		},
	}
	leader := startNode(t, ln, "leader", leaderLocal, nil)
	followerLocal := &fakeLocal{
		leaderAddr: constant(leader.addr),
		removeFn:   func(string) error { return store.ErrNotLeader },
		stepdownFn: func(context.Context, string, bool) error { return store.ErrNotLeader },
	}
	p := NewProxy(followerLocal, newTestClient(t))

	servedBy, err := p.Remove(t.Context(), "n3")
	if err != nil || servedBy != leader.addr {
		t.Errorf("remove: got %q, %v; want %q, nil", servedBy, err, leader.addr)
	}
	servedBy, err = p.Stepdown(t.Context(), "n2", true)
	if err != nil || servedBy != leader.addr {
		t.Errorf("stepdown: got %q, %v; want %q, nil", servedBy, err, leader.addr)
	}
	if got := removed.get(); !reflect.DeepEqual(got, []string{"n3"}) {
		t.Errorf("leader removed %v, want [n3]", got)
	}
	if got, want := stepped.get(), []StepdownRequest{{ID: "n2", Wait: true}}; !reflect.DeepEqual(got, want) {
		t.Errorf("leader stepdowns %v, want %v", got, want)
	}
	if _, err := p.Remove(WithoutForwarding(t.Context()), "n3"); !errors.Is(err, store.ErrNotLeader) {
		t.Errorf("remove without forwarding: got %v, want ErrNotLeader", err)
	}
	servedBy, err = leader.proxy.Remove(t.Context(), "n4")
	if err != nil || servedBy != "" {
		t.Errorf("remove on the leader: got %q, %v; want served locally", servedBy, err)
	}
}

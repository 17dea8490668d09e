package cluster

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/rdb/rdb/store"
)

// TestProxy_WaitsForElection: a call that arrives while no leader is known
// waits for one to be elected instead of failing at once.
func TestProxy_WaitsForElection(t *testing.T) {
	leader := startNode(t, listen(t), "leader", &fakeLocal{executeFn: func(context.Context, *store.Request) (store.Response, error) {
		return store.Response{RaftIndex: 9}, nil
	}}, nil)
	var mu sync.Mutex
	known := ""
	follower := &fakeLocal{
		executeFn: func(context.Context, *store.Request) (store.Response, error) {
			return store.Response{}, store.ErrNotLeader
		},
		leaderAddr: func() string {
			mu.Lock()
			defer mu.Unlock()
			return known
		},
	}
	time.AfterFunc(30*time.Millisecond, func() { mu.Lock(); known = leader.addr; mu.Unlock() })
	p := NewProxy(follower, newTestClient(t))
	resp, err := p.Execute(context.Background(), &store.Request{})
	if err != nil || resp.RaftIndex != 9 || resp.ServedBy != leader.addr {
		t.Fatalf("got %+v, %v; want the elected leader's answer", resp, err)
	}
}

// TestProxy_DeadLeaderRetried: a leader that cannot be dialled never got
// the call, so the proxy waits for the next leader and sends it there.
func TestProxy_DeadLeaderRetried(t *testing.T) {
	dead := listen(t)
	deadAddr := dead.Addr().String()
	dead.Close()
	live := startNode(t, listen(t), "live", &fakeLocal{executeFn: func(context.Context, *store.Request) (store.Response, error) {
		return store.Response{RaftIndex: 5}, nil
	}}, nil)
	var mu sync.Mutex
	known := deadAddr
	follower := &fakeLocal{
		executeFn: func(context.Context, *store.Request) (store.Response, error) {
			return store.Response{}, store.ErrNotLeader
		},
		leaderAddr: func() string {
			mu.Lock()
			defer mu.Unlock()
			return known
		},
	}
	time.AfterFunc(50*time.Millisecond, func() { mu.Lock(); known = live.addr; mu.Unlock() })
	resp, err := NewProxy(follower, newTestClient(t)).Execute(context.Background(), &store.Request{})
	if err != nil || resp.RaftIndex != 5 || resp.ServedBy != live.addr {
		t.Fatalf("got %+v, %v; want the new leader's answer", resp, err)
	}
}

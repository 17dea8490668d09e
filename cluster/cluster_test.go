package cluster

import (
	"context"
	"errors"
	"testing"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// fakeLocal is a function-field fake of Local.
type fakeLocal struct {
	executeFn func(context.Context, *store.Request) (store.Response, error)
	leader    string
	servers   []store.Server
}

func (f *fakeLocal) Execute(ctx context.Context, r *store.Request) (store.Response, error) {
	return f.executeFn(ctx, r)
}
func (f *fakeLocal) Query(ctx context.Context, r *store.Request) (store.Response, error) {
	return f.executeFn(ctx, r)
}
func (f *fakeLocal) Request(ctx context.Context, r *store.Request) (store.Response, error) {
	return f.executeFn(ctx, r)
}
func (f *fakeLocal) LeaderAddr() string               { return f.leader }
func (f *fakeLocal) Servers() ([]store.Server, error) { return f.servers, nil }

func TestProxy_Errors(t *testing.T) {
	ok := store.Response{Results: []db.Result{{RowsAffected: 1}}, RaftIndex: 7}
	tests := []struct {
		name    string
		err     error
		leader  string
		wantErr error
	}{
		{"served locally", nil, "a:1", nil},
		{"not leader, leader known", store.ErrNotLeader, "b:1", store.ErrNotLeader},
		{"not leader, no leader", store.ErrNotLeader, "", store.ErrLeaderNotFound},
		{"other errors pass through", store.ErrStaleRead, "", store.ErrStaleRead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeLocal{leader: tt.leader, executeFn: func(context.Context, *store.Request) (store.Response, error) {
				if tt.err != nil {
					return store.Response{}, tt.err
				}
				return ok, nil
			}}
			p := NewProxy(f)
			for _, call := range []func(context.Context, *store.Request) (store.Response, error){p.Execute, p.Query, p.Request} {
				got, err := call(context.Background(), &store.Request{})
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err: got %v, want %v", err, tt.wantErr)
				}
				if err == nil && got.RaftIndex != 7 {
					t.Fatalf("response not relayed: %+v", got)
				}
			}
		})
	}
}

func TestService_NodesAndLeader(t *testing.T) {
	f := &fakeLocal{leader: "127.0.0.1:4002", servers: []store.Server{
		{ID: "b", Addr: "127.0.0.1:4012", Voter: false},
		{ID: "a", Addr: "127.0.0.1:4002", Voter: true},
	}}
	s := NewService(Config{NodeID: "a", RaftAddr: "127.0.0.1:4002", APIURL: "http://127.0.0.1:4001", Version: "v1"}, f)

	voters, err := s.Nodes(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(voters) != 1 || voters[0].ID != "a" || !voters[0].Leader || !voters[0].Reachable || voters[0].APIAddr != "http://127.0.0.1:4001" || voters[0].Version != "v1" {
		t.Fatalf("voters: got %+v", voters)
	}
	all, err := s.Nodes(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].ID != "a" || all[1].ID != "b" || all[1].Reachable || all[1].Error == "" {
		t.Fatalf("all: got %+v", all)
	}
	if got, err := s.LeaderAPIAddr(context.Background()); err != nil || got != "http://127.0.0.1:4001" {
		t.Fatalf("leader API: got %q, %v", got, err)
	}
	f.leader = ""
	if _, err := s.LeaderAPIAddr(context.Background()); !errors.Is(err, store.ErrLeaderNotFound) {
		t.Fatalf("no leader: got %v", err)
	}
}

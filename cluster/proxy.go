package cluster

import (
	"context"
	"errors"

	"github.com/rdb/rdb/store"
)

// Local is the local store as cluster needs it.
type Local interface {
	Execute(ctx context.Context, req *store.Request) (store.Response, error)
	Query(ctx context.Context, req *store.Request) (store.Response, error)
	Request(ctx context.Context, req *store.Request) (store.Response, error)
	// LeaderAddr is the leader's Raft address, "" if none is known.
	LeaderAddr() string
	// Servers is the current Raft configuration.
	Servers() ([]store.Server, error)
}

// Proxy runs client requests: locally when this node can serve them,
// otherwise (once clustering lands) by forwarding to the leader.
type Proxy struct {
	local Local
}

// NewProxy returns a Proxy over the local store.
func NewProxy(local Local) *Proxy {
	return &Proxy{local: local}
}

// Execute runs writes.
func (p *Proxy) Execute(ctx context.Context, req *store.Request) (store.Response, error) {
	return p.do(ctx, req, p.local.Execute)
}

// Query runs reads at req.Level.
func (p *Proxy) Query(ctx context.Context, req *store.Request) (store.Response, error) {
	return p.do(ctx, req, p.local.Query)
}

// Request runs a mix of reads and writes.
func (p *Proxy) Request(ctx context.Context, req *store.Request) (store.Response, error) {
	return p.do(ctx, req, p.local.Request)
}

// do is the one place that decides between serving locally and going to
// the leader. Until forwarding exists, a request that needs a leader this
// node is not reports ErrNotLeader when one is known (so ?redirect works)
// and ErrLeaderNotFound otherwise.
func (p *Proxy) do(ctx context.Context, req *store.Request,
	local func(context.Context, *store.Request) (store.Response, error)) (store.Response, error) {
	resp, err := local(ctx, req)
	if !errors.Is(err, store.ErrNotLeader) {
		return resp, err
	}
	if p.local.LeaderAddr() == "" {
		return store.Response{}, store.ErrLeaderNotFound
	}
	return store.Response{}, err
}

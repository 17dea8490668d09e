package httpd

import (
	"context"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

// Database runs client requests. cluster.Proxy implements it: it serves a
// request locally when it can and otherwise forwards it to the leader.
// The HTTP layer marks ?redirect requests with cluster.WithoutForwarding
// and passes Basic-auth credentials with cluster.WithCredentials.
// Errors the HTTP layer branches on: store.ErrNotLeader (only when the
// request asked for ?redirect or no forwarding is possible),
// store.ErrLeaderNotFound, store.ErrNotOpen, store.ErrNotReady,
// store.ErrStaleRead, store.ErrApplyTimeout, db.ErrDisallowedPragma.
type Database interface {
	Execute(ctx context.Context, req *store.Request) (store.Response, error)
	Query(ctx context.Context, req *store.Request) (store.Response, error)
	Request(ctx context.Context, req *store.Request) (store.Response, error)
	// Remove takes a node out of the cluster; Stepdown hands leadership to
	// another node (id, or any if empty), waiting for it if wait. Both are
	// forwarded to the leader; servedBy is the leader's Raft address when
	// they were.
	Remove(ctx context.Context, id string) (servedBy string, err error)
	Stepdown(ctx context.Context, id string, wait bool) (servedBy string, err error)
}

// Store is the local node's state as the diagnostic endpoints see it.
type Store interface {
	// IsOpen reports whether the store has finished opening.
	IsOpen() bool
	// Ready reports whether the store is open, a leader is known and
	// start-up gates have passed.
	Ready() bool
	// LeaderAddr is the leader's Raft address, "" if none is known.
	LeaderAddr() string
	// Stats is the "store" document of /status.
	Stats() (map[string]any, error)
	// WaitForSync blocks until the local applied index reaches the commit
	// index the leader last reported, or ctx ends (?sync on /readyz).
	WaitForSync(ctx context.Context) error
	// Ping runs SELECT 1 on a local read connection (/readyz "db ok").
	Ping(ctx context.Context) error
}

// Cluster answers membership questions that may need other nodes.
type Cluster interface {
	// Nodes lists the members (voters only unless nonVoters), probing
	// each in parallel.
	Nodes(ctx context.Context, nonVoters bool) ([]cluster.Node, error)
	// LeaderAPIAddr is the leader's HTTP API URL with scheme;
	// store.ErrLeaderNotFound if no leader is known.
	LeaderAPIAddr(ctx context.Context) (string, error)
}

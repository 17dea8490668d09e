package cluster

import (
	"context"

	"github.com/rdb/rdb/store"
)

// Local is the local store as cluster needs it; *store.Store implements it.
//
// Every method is safe for concurrent use. Methods that need the leader
// (writes, reads at levels served by the leader, Join, Remove, Stepdown)
// return store.ErrNotLeader on any other node, and cluster then forwards
// the call to LeaderAddr; no method forwards by itself.
type Local interface {
	Execute(ctx context.Context, req *store.Request) (store.Response, error)
	Query(ctx context.Context, req *store.Request) (store.Response, error)
	Request(ctx context.Context, req *store.Request) (store.Response, error)
	// LeaderAddr is the leader's Raft address, "" if none is known.
	LeaderAddr() string
	// LeaderID is the leader's node ID, "" if none is known.
	LeaderID() string
	// Servers is the current Raft configuration.
	Servers() ([]store.Server, error)
	// Join adds a voter or non-voter. It is a no-op when a member with the
	// same ID and address exists; a member with the same ID or the same
	// address, but not both, is removed first.
	Join(id, addr string, voter bool) error
	// Remove removes the member with this ID.
	Remove(id string) error
	// Stepdown transfers leadership, to the member with this ID unless id
	// is empty; with wait it returns only once another node leads or ctx
	// ends. Naming the current leader is an error.
	Stepdown(ctx context.Context, id string, wait bool) error
	// Bootstrap forms a new cluster of exactly these servers. cluster calls
	// it only after HasState reported false, and every node of a
	// -bootstrap-expect set calls it with the same servers.
	Bootstrap(servers ...store.Server) error
	// HasState reports whether this node has Raft state (it bootstrapped or
	// joined before).
	HasState() (bool, error)
}

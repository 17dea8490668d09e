package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/rdb/rdb/store"
)

// maxForwardAttempts bounds how often one call follows a changing leader.
const maxForwardAttempts = 2

// viaLeader is the one place that decides between serving a call locally
// and on the leader. It runs local; if this node is not the leader, it
// runs remote against the leader's Raft address, and once more if that
// node was not the leader either but another one is known by then. It
// returns the address that served the call, "" for this node.
//
// Without a known leader the error is store.ErrLeaderNotFound. A context
// from WithoutForwarding, or one serving an already forwarded call, gets
// the local store.ErrNotLeader back instead of a forward.
func viaLeader[T any](ctx context.Context, l Local,
	local func(context.Context) (T, error),
	remote func(ctx context.Context, leader string) (T, error)) (T, string, error) {
	var zero T
	v, err := local(ctx)
	if !errors.Is(err, store.ErrNotLeader) {
		return v, "", err
	}
	leader := waitLeaderAddr(ctx, l, "")
	if leader == "" {
		return zero, "", store.ErrLeaderNotFound
	}
	if !forwardingAllowed(ctx) || isForwarded(ctx) {
		return zero, "", err
	}
	for range maxForwardAttempts {
		stats.Add(numForwarded, 1)
		v, err = remote(withForwarded(ctx), leader)
		if !errors.Is(err, store.ErrNotLeader) && !neverSent(err) {
			return v, leader, err
		}
		next := waitLeaderAddr(ctx, l, leader)
		if next == "" || next == leader {
			break
		}
		leader = next
	}
	return zero, "", fmt.Errorf("%s is not the leader: %w", leader, store.ErrLeaderNotFound)
}

// neverSent reports an error that proves the call never reached the
// remote node (the connection could not be opened), so trying another
// leader cannot apply it twice. A connection lost after sending is
// ambiguous and is reported to the client instead.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// leaderWait bounds how long a call waits for an election to name a
// leader (other than one that just refused) before giving up: a client
// then sees a short delay instead of an error during a leadership change.
var leaderWait = 3 * time.Second // a var only so tests can shorten it

// waitLeaderAddr returns a known leader other than old, polling for up to
// leaderWait (or until ctx ends); it returns whatever is known then.
func waitLeaderAddr(ctx context.Context, l Local, old string) string {
	deadline := time.Now().Add(leaderWait)
	for {
		if a := l.LeaderAddr(); a != "" && a != old {
			return a
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return l.LeaderAddr()
		}
		select {
		case <-time.After(10 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}

// Proxy runs client requests: locally when this node can serve them,
// otherwise on the leader over the RPC channel, with the caller's
// credentials (WithCredentials). It implements the HTTP layer's Database.
type Proxy struct {
	local  Local
	client *Client
}

// NewProxy returns a Proxy over the local store that forwards with
// client; with a nil client it never forwards, as under WithoutForwarding.
func NewProxy(local Local, client *Client) *Proxy {
	return &Proxy{local: local, client: client}
}

func (p *Proxy) ctx(ctx context.Context) context.Context {
	if p.client == nil {
		return WithoutForwarding(ctx)
	}
	return ctx
}

// Execute runs writes.
func (p *Proxy) Execute(ctx context.Context, req *store.Request) (store.Response, error) {
	return p.do(ctx, req, p.local.Execute, p.client.Execute)
}

// Query runs reads at req.Level.
func (p *Proxy) Query(ctx context.Context, req *store.Request) (store.Response, error) {
	return p.do(ctx, req, p.local.Query, p.client.Query)
}

// Request runs a mix of reads and writes.
func (p *Proxy) Request(ctx context.Context, req *store.Request) (store.Response, error) {
	return p.do(ctx, req, p.local.Request, p.client.Request)
}

// do sets ServedBy to the leader's Raft address when the leader served
// the request.
func (p *Proxy) do(ctx context.Context, req *store.Request,
	local func(context.Context, *store.Request) (store.Response, error),
	remote func(context.Context, string, *store.Request) (store.Response, error)) (store.Response, error) {
	resp, servedBy, err := viaLeader(p.ctx(ctx), p.local,
		func(ctx context.Context) (store.Response, error) { return local(ctx, req) },
		func(ctx context.Context, leader string) (store.Response, error) { return remote(ctx, leader, req) })
	if err != nil {
		return store.Response{}, err
	}
	if servedBy != "" {
		resp.ServedBy = servedBy
	}
	return resp, nil
}

// Remove removes a member on the leader. servedBy is the leader's Raft
// address when forwarded, "" when this node served it.
func (p *Proxy) Remove(ctx context.Context, id string) (servedBy string, err error) {
	_, servedBy, err = viaLeader(p.ctx(ctx), p.local,
		func(context.Context) (struct{}, error) { return struct{}{}, p.local.Remove(id) },
		func(ctx context.Context, leader string) (struct{}, error) {
			return struct{}{}, p.client.Remove(ctx, leader, id)
		})
	return servedBy, err
}

// Stepdown transfers leadership on the leader, to id unless it is empty;
// with wait it returns once another node leads. servedBy is as for Remove.
func (p *Proxy) Stepdown(ctx context.Context, id string, wait bool) (servedBy string, err error) {
	_, servedBy, err = viaLeader(p.ctx(ctx), p.local,
		func(ctx context.Context) (struct{}, error) { return struct{}{}, p.local.Stepdown(ctx, id, wait) },
		func(ctx context.Context, leader string) (struct{}, error) {
			return struct{}{}, p.client.Stepdown(ctx, leader, StepdownRequest{ID: id, Wait: wait})
		})
	return servedBy, err
}

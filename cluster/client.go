package cluster

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"github.com/rdb/rdb/internal/mux"
	"github.com/rdb/rdb/store"
)

// ClientConfig configures a Client.
type ClientConfig struct {
	// TLS, when set, wraps every connection in TLS (node-to-node TLS).
	TLS *tls.Config
	// MaxIdlePerAddr bounds the idle connections kept per address.
	MaxIdlePerAddr int
	// Timeout bounds a call whose context has no deadline.
	Timeout time.Duration
}

// DefaultClientConfig keeps 64 idle connections per address (as many as
// concurrent forwarded requests commonly need: a call holds its
// connection until the answer, and a new dial costs more than the call)
// and bounds calls without a deadline at 30 s (rqlite's
// -cluster-connect-timeout).
func DefaultClientConfig() ClientConfig {
	return ClientConfig{MaxIdlePerAddr: 64, Timeout: 30 * time.Second}
}

// Validate reports a ClientConfig that cannot work.
func (c ClientConfig) Validate() error {
	if c.MaxIdlePerAddr < 0 {
		return fmt.Errorf("client max idle connections %d: must not be negative", c.MaxIdlePerAddr)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("client timeout %v: must be positive", c.Timeout)
	}
	return nil
}

// Client calls other nodes' RPC services. It keeps a small pool of
// connections per address and is safe for concurrent use. Every call
// carries the credentials of its context (WithCredentials) and ends at the
// context's deadline, or after ClientConfig.Timeout when it has none.
type Client struct {
	cfg    ClientConfig
	dialer mux.Dialer

	mu     sync.Mutex
	idle   map[string][]net.Conn
	closed bool
}

// NewClient returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Client{cfg: cfg, dialer: mux.Dialer{Header: mux.HeaderRPC, TLS: cfg.TLS}, idle: make(map[string][]net.Conn)}, nil
}

// Meta asks the node at addr (a Raft address) about itself.
func (c *Client) Meta(ctx context.Context, addr string) (NodeMeta, error) {
	resp, err := c.call(ctx, addr, &rpcRequest{Op: opMeta})
	if err != nil {
		return NodeMeta{}, err
	}
	if resp.Meta == nil {
		return NodeMeta{}, fmt.Errorf("meta from %s: empty response", addr)
	}
	return *resp.Meta, nil
}

// Join asks the node at addr to add a node; a follower passes the request
// on to its leader. It returns the leader's Raft address.
func (c *Client) Join(ctx context.Context, addr string, req JoinRequest) (string, error) {
	resp, err := c.call(ctx, addr, &rpcRequest{Op: opJoin, Join: &req})
	if err != nil {
		return "", err
	}
	return resp.Leader, nil
}

// Notify tells the node at addr that a voter exists (-bootstrap-expect).
func (c *Client) Notify(ctx context.Context, addr string, req NotifyRequest) error {
	_, err := c.call(ctx, addr, &rpcRequest{Op: opNotify, Notify: &req})
	return err
}

// Remove asks the node at addr to remove the member with this ID.
func (c *Client) Remove(ctx context.Context, addr, id string) error {
	_, err := c.call(ctx, addr, &rpcRequest{Op: opRemove, RemoveID: id})
	return err
}

// Stepdown asks the node at addr to transfer leadership.
func (c *Client) Stepdown(ctx context.Context, addr string, req StepdownRequest) error {
	_, err := c.call(ctx, addr, &rpcRequest{Op: opStepdown, Stepdown: &req})
	return err
}

// Execute runs writes on the node at addr.
func (c *Client) Execute(ctx context.Context, addr string, req *store.Request) (store.Response, error) {
	return c.callStore(ctx, addr, opExecute, req)
}

// Query runs reads on the node at addr.
func (c *Client) Query(ctx context.Context, addr string, req *store.Request) (store.Response, error) {
	return c.callStore(ctx, addr, opQuery, req)
}

// Request runs a mix of reads and writes on the node at addr.
func (c *Client) Request(ctx context.Context, addr string, req *store.Request) (store.Response, error) {
	return c.callStore(ctx, addr, opRequest, req)
}

func (c *Client) callStore(ctx context.Context, addr string, o op, req *store.Request) (store.Response, error) {
	w, err := toWireRequest(req)
	if err != nil {
		return store.Response{}, fmt.Errorf("%s on %s: %w", o, addr, err)
	}
	resp, err := c.call(ctx, addr, &rpcRequest{Op: o, Store: w})
	if err != nil {
		return store.Response{}, err
	}
	if resp.Store == nil {
		return store.Response{}, fmt.Errorf("%s on %s: empty response", o, addr)
	}
	r, err := resp.Store.response()
	if err != nil {
		return store.Response{}, fmt.Errorf("%s on %s: %w", o, addr, err)
	}
	return r, nil
}

// call sends req to addr and returns its response, or the remote error.
func (c *Client) call(ctx context.Context, addr string, req *rpcRequest) (*rpcResponse, error) {
	if creds, ok := CredentialsFrom(ctx); ok {
		req.Credentials = &creds
	}
	req.Forwarded = isForwarded(ctx)
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	dl, _ := ctx.Deadline()
	req.Timeout = time.Until(dl)
	body, err := encodeMsg(req)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", req.Op, addr, err)
	}
	if len(body) > MaxFrameSize {
		return nil, fmt.Errorf("%s on %s: request of %d bytes: %w", req.Op, addr, len(body), ErrFrameTooLarge)
	}
	resp, err := c.send(ctx, addr, req.Op, body)
	if err != nil {
		return nil, fmt.Errorf("%s on %s: %w", req.Op, addr, err)
	}
	if resp.Err != nil {
		// Not wrapped: the HTTP layer renders the leader's error text
		// exactly as the leader would have.
		err := resp.Err.err()
		if errors.Is(err, context.DeadlineExceeded) && !time.Now().Before(dl) {
			// The remote handler hit the deadline this call shares (its
			// timer may fire before ours).
			return nil, fmt.Errorf("%w: %w", ErrNodeTimeout, err)
		}
		return nil, err
	}
	return resp, nil
}

// send runs one round trip, retrying once on a new connection when a
// pooled one turns out to be broken and retrying cannot run the call
// twice.
func (c *Client) send(ctx context.Context, addr string, o op, body []byte) (*rpcResponse, error) {
	for attempt := 0; ; attempt++ {
		conn, reused, err := c.get(ctx, addr)
		if err != nil {
			return nil, err
		}
		// Cancelling ctx unblocks the exchange by expiring the deadline.
		stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
		resp, wrote, err := exchange(ctx, conn, body)
		poisoned := !stop()
		if err == nil {
			if poisoned {
				conn.Close()
			} else {
				c.put(addr, conn)
			}
			return resp, nil
		}
		conn.Close()
		if ctx.Err() != nil {
			return nil, ctxError(ctx, err)
		}
		if isTimeout(err) {
			return nil, fmt.Errorf("%w: %w", ErrNodeTimeout, err)
		}
		if attempt > 0 || !reused || (wrote && !o.idempotent()) {
			return nil, err
		}
		stats.Add(numClientForceNewConn, 1)
	}
}

// exchange writes one frame and reads one; wrote reports whether the
// request was written in full.
func exchange(ctx context.Context, conn net.Conn, body []byte) (resp *rpcResponse, wrote bool, err error) {
	dl, _ := ctx.Deadline()
	if err := conn.SetDeadline(dl); err != nil {
		return nil, false, fmt.Errorf("set deadline: %w", err)
	}
	if err := writeFrame(conn, body); err != nil {
		return nil, false, err
	}
	b, err := readFrame(conn)
	if err != nil {
		return nil, true, fmt.Errorf("read response: %w", err)
	}
	resp = &rpcResponse{}
	if err := decodeMsg(b, resp); err != nil {
		return nil, true, err
	}
	return resp, true, nil
}

func ctxError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrNodeTimeout, context.DeadlineExceeded)
	}
	return fmt.Errorf("%w (%w)", ctx.Err(), err)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// get returns an idle connection that still looks alive, or a new one.
func (c *Client) get(ctx context.Context, addr string) (conn net.Conn, reused bool, err error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, false, ErrClosed
		}
		conns := c.idle[addr]
		if len(conns) == 0 {
			c.mu.Unlock()
			break
		}
		conn = conns[len(conns)-1]
		c.idle[addr] = conns[:len(conns)-1]
		c.mu.Unlock()
		if connAlive(conn) {
			return conn, true, nil
		}
		conn.Close()
		stats.Add(numClientForceNewConn, 1)
	}
	conn, err = c.dialer.DialContext(ctx, addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctxError(ctx, err)
		}
		return nil, false, err
	}
	return conn, false, nil
}

func (c *Client) put(addr string, conn net.Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.idle[addr]) >= c.cfg.MaxIdlePerAddr {
		conn.Close()
		return
	}
	c.idle[addr] = append(c.idle[addr], conn)
}

// Close closes every idle connection; later calls fail with ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	for addr, conns := range c.idle {
		for _, conn := range conns {
			conn.Close()
		}
		delete(c.idle, addr)
	}
	return nil
}

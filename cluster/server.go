package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"time"

	"github.com/rdb/rdb/store"
)

// serverIdleTimeout closes a connection that sends no complete request for
// this long, so silent or trickling peers cannot pin goroutines; clients
// notice before reusing a pooled connection.
const serverIdleTimeout = 5 * time.Minute

// Handler serves RPCs. The Server calls it from one goroutine per
// connection, so concurrently; ctx carries the caller's credentials
// (CredentialsFrom) and deadline, and ends when the Server closes.
type Handler interface {
	Meta(ctx context.Context) (NodeMeta, error)
	// Join returns the Raft address of the leader that added the node.
	Join(ctx context.Context, req JoinRequest) (leader string, err error)
	Notify(ctx context.Context, req NotifyRequest) error
	Remove(ctx context.Context, id string) error
	Stepdown(ctx context.Context, req StepdownRequest) error
	Execute(ctx context.Context, req *store.Request) (store.Response, error)
	Query(ctx context.Context, req *store.Request) (store.Response, error)
	Request(ctx context.Context, req *store.Request) (store.Response, error)
}

// Server answers RPCs arriving on a listener (the internal/mux RPC listener)
// with a Handler. Each connection carries one call at a time: a request
// frame, then its response frame.
type Server struct {
	ln     net.Listener
	h      Handler
	logger *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewServer returns a Server; call Serve to start it.
func NewServer(ln net.Listener, h Handler, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		ln: ln, h: h, logger: logger.With("component", "rpc-server"),
		ctx: ctx, cancel: cancel, conns: make(map[net.Conn]struct{}),
	}
}

// Serve accepts connections until Close; it returns nil after Close.
func (s *Server) Serve() error {
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("rpc accept: %w", err)
		}
		if !s.track(conn) {
			conn.Close()
			return nil
		}
		go s.serveConn(conn)
	}
}

func (s *Server) track(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[conn] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrack(conn net.Conn) {
	s.mu.Lock()
	delete(s.conns, conn)
	s.mu.Unlock()
	conn.Close()
	s.wg.Done()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// serveConn answers calls on conn until it breaks or carries garbage.
func (s *Server) serveConn(conn net.Conn) {
	defer s.untrack(conn)
	for {
		if err := conn.SetReadDeadline(time.Now().Add(serverIdleTimeout)); err != nil {
			return
		}
		body, err := readFrame(conn)
		if err != nil {
			if !errors.Is(err, io.EOF) && !s.isClosed() {
				s.logger.Debug("closing rpc connection", "remote", conn.RemoteAddr(), "err", err)
			}
			return
		}
		var req rpcRequest
		if err := decodeMsg(body, &req); err != nil {
			s.logger.Warn("closing rpc connection after undecodable request", "remote", conn.RemoteAddr(), "err", err)
			return
		}
		out, err := encodeMsg(s.dispatch(&req))
		if err == nil && len(out) > MaxFrameSize {
			err = fmt.Errorf("response of %d bytes: %w", len(out), ErrFrameTooLarge)
		}
		if err != nil {
			out, err = encodeMsg(&rpcResponse{Err: toWireError(fmt.Errorf("%s: %w", req.Op, err))})
			if err != nil {
				return
			}
		}
		if err := writeFrame(conn, out); err != nil {
			s.logger.Debug("write rpc response", "remote", conn.RemoteAddr(), "err", err)
			return
		}
	}
}

// dispatch runs one request on the Handler.
func (s *Server) dispatch(req *rpcRequest) *rpcResponse {
	ctx := s.ctx
	if req.Credentials != nil {
		ctx = WithCredentials(ctx, req.Credentials.Username, req.Credentials.Password)
	}
	if req.Forwarded {
		ctx = withForwarded(ctx)
	}
	if req.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		defer cancel()
	}
	countOp(req.Op)
	start := time.Now()
	resp, err := s.safeCall(ctx, req)
	if err != nil {
		resp = &rpcResponse{Err: toWireError(err)}
	}
	s.logger.Debug("rpc served", "op", req.Op, "duration", time.Since(start), "err", err)
	return resp
}

// safeCall is call, with a handler panic turned into an error for the
// caller (and a log line with the stack) instead of a crashed node.
func (s *Server) safeCall(ctx context.Context, req *rpcRequest) (resp *rpcResponse, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.logger.Error("rpc handler panicked", "op", req.Op, "panic", p, "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("%s: %w", req.Op, errHandlerPanic)
		}
	}()
	return s.call(ctx, req)
}

// errHandlerPanic replaces the text of a recovered handler panic.
var errHandlerPanic = errors.New("internal error")

func (s *Server) call(ctx context.Context, req *rpcRequest) (*rpcResponse, error) {
	switch req.Op {
	case opMeta:
		m, err := s.h.Meta(ctx)
		return &rpcResponse{Meta: &m}, err
	case opJoin:
		if req.Join == nil {
			return nil, fmt.Errorf("join without arguments: %w", ErrUnknownOp)
		}
		leader, err := s.h.Join(ctx, *req.Join)
		return &rpcResponse{Leader: leader}, err
	case opNotify:
		if req.Notify == nil {
			return nil, fmt.Errorf("notify without arguments: %w", ErrUnknownOp)
		}
		return &rpcResponse{}, s.h.Notify(ctx, *req.Notify)
	case opRemove:
		return &rpcResponse{}, s.h.Remove(ctx, req.RemoveID)
	case opStepdown:
		if req.Stepdown == nil {
			return nil, fmt.Errorf("stepdown without arguments: %w", ErrUnknownOp)
		}
		return &rpcResponse{}, s.h.Stepdown(ctx, *req.Stepdown)
	case opExecute:
		return s.callStore(ctx, req, s.h.Execute)
	case opQuery:
		return s.callStore(ctx, req, s.h.Query)
	case opRequest:
		return s.callStore(ctx, req, s.h.Request)
	case opChecksum:
		return s.checksum(ctx, req)
	}
	return nil, fmt.Errorf("op %d: %w", req.Op, ErrUnknownOp)
}

func (s *Server) callStore(ctx context.Context, req *rpcRequest,
	fn func(context.Context, *store.Request) (store.Response, error)) (*rpcResponse, error) {
	if req.Store == nil {
		return nil, fmt.Errorf("%s without a request: %w", req.Op, ErrUnknownOp)
	}
	sr, err := req.Store.request()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.Op, err)
	}
	resp, err := fn(ctx, sr)
	if err != nil {
		return nil, err
	}
	w, err := toWireResponse(resp)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", req.Op, err)
	}
	return &rpcResponse{Store: w}, nil
}

// Close stops accepting, closes every connection, cancels running
// handlers' contexts and waits for their goroutines.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.cancel()
	err := s.ln.Close()
	s.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close rpc listener: %w", err)
	}
	return nil
}

package cluster

import "errors"

var (
	// ErrFrameTooLarge rejects an RPC frame above MaxFrameSize, in either
	// direction, before its body is read or sent.
	ErrFrameTooLarge = errors.New("rpc frame too large")
	// ErrClosed is returned by a Mux, Server or Client after Close.
	ErrClosed = errors.New("cluster: closed")
	// ErrUnknownOp is returned to a caller whose request names an operation
	// this node does not serve.
	ErrUnknownOp = errors.New("unknown rpc operation")
	// ErrServingHTTP refuses a join address that answers HTTP: it is
	// someone's API address, not a Raft address.
	ErrServingHTTP = errors.New("appears to be serving HTTP when it should be Raft")
	// ErrJoinFailed means no join address accepted the join within the
	// configured attempts.
	ErrJoinFailed = errors.New("failed to join cluster")
	// ErrBootstrapTimeout means -bootstrap-expect did not form or find a
	// cluster in time.
	ErrBootstrapTimeout = errors.New("bootstrap-expect timed out")
	// ErrNodeTimeout is a probe or call that got no answer in time; its text
	// is what /nodes reports.
	ErrNodeTimeout = errors.New("timeout waiting for node to respond")
	// ErrInvalidRequest rejects a membership request without a node ID or
	// address.
	ErrInvalidRequest = errors.New("invalid cluster request")
	// ErrUnauthorized refuses an RPC whose credentials lack the permission
	// it needs (API.md §6); the HTTP layer answers 401.
	ErrUnauthorized = errors.New("unauthorized")
)

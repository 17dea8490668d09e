package store

import "errors"

var (
	// ErrNotLeader means the request needs the leader and this node is not
	// it; cluster forwards it.
	ErrNotLeader = errors.New("not leader")
	// ErrNotOpen means the store has not finished opening (or is closed).
	ErrNotOpen = errors.New("store not open")
	// ErrNotReady means the store is open but cannot serve yet.
	ErrNotReady = errors.New("store not ready")
	// ErrStaleRead rejects a level=none read beyond its freshness bound.
	ErrStaleRead = errors.New("stale read")
	// ErrApplyTimeout means Raft did not commit the entry within the apply
	// timeout.
	ErrApplyTimeout = errors.New("timeout waiting for raft apply")
	// ErrLeaderNotFound means no leader is known.
	ErrLeaderNotFound = errors.New("leader not found")
)

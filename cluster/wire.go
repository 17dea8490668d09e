package cluster

import (
	"time"

	"github.com/rdb/rdb/db"
)

// op names an RPC operation. Values are part of the wire format: append,
// never renumber.
type op uint8

const (
	opMeta op = iota + 1
	opJoin
	opNotify
	opRemove
	opStepdown
	opExecute
	opQuery
	opRequest
	opChecksum
)

func (o op) String() string {
	switch o {
	case opMeta:
		return "meta"
	case opJoin:
		return "join"
	case opNotify:
		return "notify"
	case opRemove:
		return "remove"
	case opStepdown:
		return "stepdown"
	case opExecute:
		return "execute"
	case opQuery:
		return "query"
	case opRequest:
		return "request"
	case opChecksum:
		return "checksum"
	}
	return "unknown"
}

// idempotent reports whether a call may be retried on a new connection
// after an old one broke mid-call (it may have run once already).
func (o op) idempotent() bool {
	switch o {
	case opMeta, opJoin, opNotify, opQuery, opChecksum:
		return true
	}
	return false
}

// NodeMeta is what a node says about itself over RPC.
type NodeMeta struct {
	ID      string
	APIURL  string // HTTP API URL with scheme
	Version string
}

// JoinRequest asks the leader to add a node.
type JoinRequest struct {
	ID    string
	Addr  string // Raft address
	Voter bool
}

// NotifyRequest tells a -bootstrap-expect node that a voter exists.
type NotifyRequest struct {
	ID   string
	Addr string
}

// StepdownRequest asks the leader to transfer leadership, to ID unless it
// is empty.
type StepdownRequest struct {
	ID   string
	Wait bool
}

// rpcRequest is one request frame. Exactly the fields of Op are set.
type rpcRequest struct {
	Op          op
	Credentials *Credentials
	// Timeout is how long the caller will wait; the server bounds the
	// handler's context by it.
	Timeout time.Duration
	// Forwarded marks a call made on behalf of another node; the
	// receiver serves it and never forwards it again.
	Forwarded bool
	Join      *JoinRequest     `codec:",omitempty"`
	Notify    *NotifyRequest   `codec:",omitempty"`
	RemoveID  string           `codec:",omitempty"`
	Stepdown  *StepdownRequest `codec:",omitempty"`
	Store     *wireRequest     `codec:",omitempty"`
	// ChecksumIndex is the checksum marker a checksum call asks about.
	ChecksumIndex uint64 `codec:",omitempty"`
}

// rpcResponse is one response frame: Err, or the result of the op.
type rpcResponse struct {
	Err    *wireError    `codec:",omitempty"`
	Meta   *NodeMeta     `codec:",omitempty"`
	Leader string        `codec:",omitempty"` // join: the leader that added the node
	Store  *wireResponse `codec:",omitempty"`
	// Checksum answers a checksum call.
	Checksum *db.Checksum `codec:",omitempty"`
}

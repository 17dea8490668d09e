package store

import (
	"log/slog"
	"net"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

const (
	transportMaxPool = 3
	transportTimeout = 10 * time.Second
)

// StreamLayer is a network layer for Raft (for instance one side of a
// multiplexed listener): it accepts Raft connections and dials other nodes.
type StreamLayer interface {
	net.Listener
	Dial(addr string, timeout time.Duration) (net.Conn, error)
}

// NewTransport returns a Raft transport over layer. The transport is
// closed by Store.Close.
func NewTransport(layer StreamLayer, logger *slog.Logger) raft.Transport {
	return raft.NewNetworkTransportWithLogger(streamLayer{layer}, transportMaxPool, transportTimeout,
		newHCLogger(orDefault(logger), hclog.Warn).Named("raft-net"))
}

// streamLayer adapts a StreamLayer to raft.StreamLayer.
type streamLayer struct{ StreamLayer }

func (s streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return s.StreamLayer.Dial(string(addr), timeout)
}

func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}

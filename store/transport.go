package store

import (
	"fmt"
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

// NewTCPTransport returns a Raft transport listening on bindAddr and
// advertising advertise (bindAddr if empty), so cmd/rdb need not import
// raft.
func NewTCPTransport(bindAddr, advertise string, logger *slog.Logger) (raft.Transport, error) {
	var adv net.Addr
	if advertise != "" {
		a, err := net.ResolveTCPAddr("tcp", advertise)
		if err != nil {
			return nil, fmt.Errorf("resolve raft advertise address %s: %w", advertise, err)
		}
		adv = a
	}
	tn, err := raft.NewTCPTransportWithLogger(bindAddr, adv, transportMaxPool, transportTimeout,
		newHCLogger(orDefault(logger), hclog.Warn).Named("raft-net"))
	if err != nil {
		return nil, fmt.Errorf("raft transport on %s: %w", bindAddr, err)
	}
	return tn, nil
}

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

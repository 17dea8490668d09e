package disco

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

// Node is the local store as discovery needs it; *store.Store implements
// it. Its methods are safe for concurrent use.
type Node interface {
	// LeaderAddr is the leader's Raft address, "" if none is known.
	LeaderAddr() string
	// IsLeader reports whether this node leads.
	IsLeader() bool
	// HasState reports whether the node has Raft state.
	HasState() (bool, error)
	// Bootstrap forms a new cluster of exactly these servers.
	Bootstrap(servers ...store.Server) error
}

// Cluster sends requests to other nodes; *cluster.Client implements it.
type Cluster interface {
	Join(ctx context.Context, addr string, req cluster.JoinRequest) (string, error)
	Notify(ctx context.Context, addr string, req cluster.NotifyRequest) error
}

// Self identifies this node to the others.
type Self struct {
	ID       string
	RaftAddr string // advertised
	APIURL   string // http(s)://host:port
	Voter    bool
	// Credentials, if set, go with join and notify requests (-join-as).
	Credentials *cluster.Credentials
}

func (s Self) ctx(ctx context.Context) context.Context {
	if c := s.Credentials; c != nil {
		return cluster.WithCredentials(ctx, c.Username, c.Password)
	}
	return ctx
}

// BootConfig configures a Booter.
type BootConfig struct {
	Self Self
	// Timeout bounds the whole procedure (-bootstrap-expect-timeout).
	Timeout time.Duration
	// CallTimeout bounds one join or notify request.
	CallTimeout time.Duration
	// FirstTick is the wait before the first round; later rounds wait
	// Interval plus a random part of up to Jitter.
	FirstTick time.Duration
	Interval  time.Duration
	Jitter    time.Duration
}

// DefaultBootConfig returns rqlite's timing: first round after 1 ms, then
// every 1–2 s, 5 s per request, 120 s in all.
func DefaultBootConfig() BootConfig {
	return BootConfig{Timeout: 120 * time.Second, CallTimeout: 5 * time.Second,
		FirstTick: time.Millisecond, Interval: time.Second, Jitter: time.Second}
}

// Validate reports a BootConfig that cannot work.
func (c BootConfig) Validate() error {
	if c.Self.ID == "" || c.Self.RaftAddr == "" {
		return errors.New("disco boot config: empty node ID or Raft address")
	}
	if c.Timeout <= 0 || c.CallTimeout <= 0 || c.Interval <= 0 || c.FirstTick < 0 || c.Jitter < 0 {
		return errors.New("disco boot config: timeouts and interval must be positive")
	}
	return nil
}

// Booter forms or joins a cluster from looked-up addresses (dns, dns-srv):
// each round it stops if a leader is known, looks the addresses up again,
// tries to join each, and, if this node votes, notifies each that it is a
// voter; the nodes' cluster.Service bootstraps once it has heard of
// -bootstrap-expect voters (nodes notify themselves too).
type Booter struct {
	cfg     BootConfig
	lookup  Lookuper
	node    Node
	cluster Cluster
	logger  *slog.Logger
}

// NewBooter returns a Booter.
func NewBooter(cfg BootConfig, lookup Lookuper, node Node, c Cluster, logger *slog.Logger) (*Booter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if lookup == nil || node == nil || c == nil {
		return nil, errors.New("disco booter: nil lookup, node or cluster")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Booter{cfg: cfg, lookup: lookup, node: node, cluster: c, logger: logger.With("component", "disco")}, nil
}

// Boot returns once this node knows a leader, or ErrBootTimeout after
// Timeout, or ctx's error.
func (b *Booter) Boot(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	wait := b.cfg.FirstTick
	for round := 1; ; round++ {
		if err := sleep(ctx, wait); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%w after %d rounds (%v)", ErrBootTimeout, round-1, b.cfg.Timeout)
			}
			return err
		}
		wait = b.cfg.Interval + jitter(b.cfg.Jitter)
		if b.node.LeaderAddr() != "" {
			return nil
		}
		targets, err := b.lookup.Lookup(ctx)
		if err == nil && len(targets) == 0 {
			err = ErrNoAddresses
		}
		if err != nil {
			b.logger.Warn("discovery lookup failed; trying again", "round", round, "error", err)
			continue
		}
		if b.join(ctx, targets) {
			return nil
		}
		if b.cfg.Self.Voter {
			b.notify(ctx, targets)
		}
	}
}

// join tries each target once and reports whether one accepted.
func (b *Booter) join(ctx context.Context, targets []string) bool {
	s := b.cfg.Self
	req := cluster.JoinRequest{ID: s.ID, Addr: s.RaftAddr, Voter: s.Voter}
	for _, t := range targets {
		cctx, cancel := context.WithTimeout(s.ctx(ctx), b.cfg.CallTimeout)
		leader, err := b.cluster.Join(cctx, t, req)
		cancel()
		if err == nil {
			b.logger.Info("joined cluster through discovery", "via", t, "leader", leader)
			return true
		}
		b.logger.Debug("join through discovery failed", "target", t, "error", err)
	}
	return false
}

// notify tells each target, in order, that this node is a voter, and stops
// at the first that cannot be told (it is tried again next round).
func (b *Booter) notify(ctx context.Context, targets []string) {
	s := b.cfg.Self
	req := cluster.NotifyRequest{ID: s.ID, Addr: s.RaftAddr}
	for _, t := range targets {
		cctx, cancel := context.WithTimeout(s.ctx(ctx), b.cfg.CallTimeout)
		err := b.cluster.Notify(cctx, t, req)
		cancel()
		if err != nil {
			b.logger.Debug("notify through discovery failed", "target", t, "error", err)
			return
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// jitter is a random duration in [0, max).
func jitter(max time.Duration) time.Duration {
	if max <= 0 {
		return 0
	}
	return rand.N(max)
}

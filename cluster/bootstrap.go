package cluster

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/rdb/rdb/store"
)

// notifyRegistry records the voters -bootstrap-expect has heard of.
type notifyRegistry struct {
	mu     sync.Mutex
	expect int
	voters map[string]string // ID → Raft address
	done   bool
}

func newNotifyRegistry(expect int) *notifyRegistry {
	return &notifyRegistry{expect: expect, voters: make(map[string]string)}
}

// notified records a voter and, once BootstrapExpect distinct voters are
// known and this node has no state, bootstraps all of them. Every node
// that gets there bootstraps the same sorted set, and hashicorp/raft
// accepts identical bootstrap configurations.
func (s *Service) notified(req NotifyRequest) error {
	r := s.boot
	r.mu.Lock()
	defer r.mu.Unlock()
	// A node that knows a leader is in a cluster already (OPS.md §1.2).
	if r.expect == 0 || r.done || s.local.LeaderAddr() != "" {
		return nil
	}
	r.voters[req.ID] = req.Addr
	if len(r.voters) < r.expect {
		s.logger.Info("bootstrap-expect: voter known", "id", req.ID, "addr", req.Addr, "known", len(r.voters), "expect", r.expect)
		return nil
	}
	has, err := s.local.HasState()
	if err != nil {
		return fmt.Errorf("bootstrap-expect: check for state: %w", err)
	}
	if has {
		r.done = true
		return nil
	}
	servers := make([]store.Server, 0, len(r.voters))
	for id, addr := range r.voters {
		servers = append(servers, store.Server{ID: id, Addr: addr, Voter: true})
	}
	slices.SortFunc(servers, func(a, b store.Server) int { return cmp.Compare(a.ID, b.ID) })
	if err := s.local.Bootstrap(servers...); err != nil {
		return fmt.Errorf("bootstrap-expect: bootstrap %d voters: %w", len(servers), err)
	}
	r.done = true
	stats.Add(numBootstraps, 1)
	s.logger.Info("bootstrap-expect: bootstrapped cluster", "voters", len(servers))
	return nil
}

// BootstrapConfig configures a Bootstrapper (-bootstrap-expect with -join).
type BootstrapConfig struct {
	// Join lists the addresses (normally every node's, this one's
	// included), this node's identity, credentials and call timeouts;
	// its Attempts is unused.
	Join JoinConfig
	// Interval is the pause between rounds; Timeout bounds the whole
	// procedure (-bootstrap-expect-timeout).
	Interval time.Duration
	Timeout  time.Duration
}

// DefaultBootstrapConfig returns 2 s rounds within rqlite's 120 s timeout.
func DefaultBootstrapConfig() BootstrapConfig {
	return BootstrapConfig{Join: DefaultJoinConfig(), Interval: 2 * time.Second, Timeout: 120 * time.Second}
}

// Validate reports a BootstrapConfig that cannot work.
func (c BootstrapConfig) Validate() error {
	if err := c.Join.Validate(); err != nil {
		return err
	}
	if c.Interval <= 0 || c.Timeout <= 0 {
		return fmt.Errorf("bootstrap config: interval %v and timeout %v must be positive", c.Interval, c.Timeout)
	}
	return nil
}

// Bootstrapper forms a cluster from nodes started together: each round it
// tries to join, and failing that notifies every address that this node
// is a voter; the Service of each node bootstraps once it knows
// BootstrapExpect voters.
type Bootstrapper struct {
	cfg    BootstrapConfig
	local  Local
	joiner *Joiner
	client *Client
	logger *slog.Logger
}

// NewBootstrapper returns a Bootstrapper for the local store.
func NewBootstrapper(cfg BootstrapConfig, local Local, client *Client, logger *slog.Logger) (*Bootstrapper, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	j, err := NewJoiner(cfg.Join, client, logger)
	if err != nil {
		return nil, err
	}
	return &Bootstrapper{cfg: cfg, local: local, joiner: j, client: client, logger: logger.With("component", "bootstrapper")}, nil
}

// Boot returns once this node knows a leader, or fails with
// ErrBootstrapTimeout after Timeout, or ErrServingHTTP if a join address
// is an HTTP server.
func (b *Bootstrapper) Boot(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, b.cfg.Timeout)
	defer cancel()
	for _, addr := range b.cfg.Join.Addresses {
		if servesHTTP(ctx, addr, b.cfg.Join.HTTPProbeTimeout) {
			return fmt.Errorf("join address %s %w", addr, ErrServingHTTP)
		}
	}
	for round := 1; ; round++ {
		if b.local.LeaderAddr() != "" {
			return nil
		}
		if _, err := b.joiner.once(ctx, b.cfg.Join.Addr); err == nil {
			return nil
		}
		b.notifyAll(ctx)
		if b.local.LeaderAddr() != "" {
			return nil
		}
		if err := wait(ctx, b.cfg.Interval); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%w after %d rounds (%v)", ErrBootstrapTimeout, round, b.cfg.Timeout)
			}
			return fmt.Errorf("bootstrap: %w", err)
		}
	}
}

// notifyAll tells every address, this node's own included, that this
// node is a voter.
func (b *Bootstrapper) notifyAll(ctx context.Context) {
	jc := b.cfg.Join
	if c := jc.Credentials; c != nil {
		ctx = WithCredentials(ctx, c.Username, c.Password)
	}
	addrs := jc.Addresses
	if !slices.Contains(addrs, jc.Addr) {
		addrs = append(slices.Clip(addrs), jc.Addr)
	}
	req := NotifyRequest{ID: jc.ID, Addr: jc.Addr}
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, jc.CallTimeout)
			defer cancel()
			if err := b.client.Notify(cctx, addr, req); err != nil {
				b.logger.Debug("notify failed", "addr", addr, "err", err)
			}
		})
	}
	wg.Wait()
}

package disco

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

// LeaderRecord is the value of the leader key: which node leads, and
// where to reach it.
type LeaderRecord struct {
	ID      string `json:"id,omitempty"`
	APIAddr string `json:"api_addr,omitempty"`
	Addr    string `json:"addr,omitempty"` // Raft address
}

// KV stores the leader record; Etcd and Consul implement it.
type KV interface {
	// GetLeader reads the record; ok is false when there is none.
	GetLeader(ctx context.Context) (rec LeaderRecord, ok bool, err error)
	// InitializeLeader writes rec only if there is no record yet, and
	// reports whether it did.
	InitializeLeader(ctx context.Context, rec LeaderRecord) (bool, error)
	// SetLeader writes rec unconditionally.
	SetLeader(ctx context.Context, rec LeaderRecord) error
}

// KVConfig configures a KVService.
type KVConfig struct {
	// Mode is ModeEtcd or ModeConsul, for /status.
	Mode string
	Self Self
	// JoinAttempts and JoinInterval apply to each join of the node the
	// record names (-join-attempts, -join-interval); CallTimeout bounds
	// one join request.
	JoinAttempts int
	JoinInterval time.Duration
	CallTimeout  time.Duration
	// RegisterInterval (plus up to as much again at random) separates
	// looks at the store while nobody has claimed leadership; RetryPause
	// follows a failed join of the recorded leader.
	RegisterInterval time.Duration
	RetryPause       time.Duration
	// ReportInterval is how often the leader rewrites the record;
	// LeaderPoll how often the reporter checks for leadership (a new
	// leader writes the record within one LeaderPoll).
	ReportInterval time.Duration
	LeaderPoll     time.Duration
}

// DefaultKVConfig returns rqlite's timing: 3 s register interval, 10 s
// report interval, 1 s pause after a failed join.
func DefaultKVConfig() KVConfig {
	return KVConfig{JoinAttempts: 5, JoinInterval: 3 * time.Second, CallTimeout: 5 * time.Second,
		RegisterInterval: 3 * time.Second, RetryPause: time.Second,
		ReportInterval: 10 * time.Second, LeaderPoll: 100 * time.Millisecond}
}

// Validate reports a KVConfig that cannot work.
func (c KVConfig) Validate() error {
	switch {
	case !IsKV(c.Mode):
		return fmt.Errorf("disco kv config: mode %q is not a key-value mode", c.Mode)
	case c.Self.ID == "" || c.Self.RaftAddr == "":
		return errors.New("disco kv config: empty node ID or Raft address")
	case c.JoinAttempts <= 0:
		return fmt.Errorf("disco kv config: join attempts %d must be positive", c.JoinAttempts)
	case c.JoinInterval < 0 || c.CallTimeout <= 0 || c.RegisterInterval <= 0 || c.RetryPause < 0 ||
		c.ReportInterval <= 0 || c.LeaderPoll <= 0:
		return errors.New("disco kv config: intervals must be positive")
	}
	return nil
}

// KVService runs etcd-kv and consul-kv discovery: Register forms or joins
// the cluster, Report keeps the leader record current while this node
// leads.
type KVService struct {
	cfg     KVConfig
	kv      KV
	node    Node
	cluster Cluster
	logger  *slog.Logger

	mu          sync.Mutex
	lastContact time.Time
}

// NewKVService returns a KVService.
func NewKVService(cfg KVConfig, kv KV, node Node, c Cluster, logger *slog.Logger) (*KVService, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if kv == nil || node == nil || c == nil {
		return nil, errors.New("disco kv service: nil store, node or cluster")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &KVService{cfg: cfg, kv: kv, node: node, cluster: c, logger: logger.With("component", "disco", "mode", cfg.Mode)}, nil
}

// Register returns once this node has joined the node named by the leader
// record, or has created the record and bootstrapped a cluster of itself;
// it retries until ctx ends. A non-voter never creates the record, so it
// waits for a voter to lead. A node with Raft state does nothing.
func (s *KVService) Register(ctx context.Context) error {
	has, err := s.node.HasState()
	if err != nil {
		return fmt.Errorf("check for state: %w", err)
	}
	if has {
		s.logger.Info("node has cluster state; no registration with the discovery service")
		return nil
	}
	for {
		done, pause := s.registerOnce(ctx)
		if done {
			return nil
		}
		if err := sleep(ctx, pause); err != nil {
			return fmt.Errorf("register with %s: %w", s.cfg.Mode, err)
		}
	}
}

// registerOnce makes one registration step and says whether it is done,
// or how long to pause before the next.
func (s *KVService) registerOnce(ctx context.Context) (bool, time.Duration) {
	idle := s.cfg.RegisterInterval + jitter(s.cfg.RegisterInterval)
	rec, ok, err := s.kv.GetLeader(ctx)
	if err != nil {
		s.logger.Warn("read leader record", "error", err)
		return false, idle
	}
	s.contacted()
	if ok && rec.Addr != "" {
		if err := s.join(ctx, rec.Addr); err != nil {
			s.logger.Warn("join the recorded leader failed; reading the record again", "leader", rec.Addr, "error", err)
			return false, s.cfg.RetryPause
		}
		s.logger.Info("joined cluster through the leader record", "leader_id", rec.ID, "leader", rec.Addr)
		return true, 0
	}
	if !s.cfg.Self.Voter {
		s.logger.Info("no leader recorded yet; a non-voter waits for a voter to lead")
		return false, idle
	}
	won, err := s.kv.InitializeLeader(ctx, s.record())
	if err != nil {
		s.logger.Warn("claim leader record", "error", err)
		return false, idle
	}
	if !won {
		s.logger.Info("another node claimed the leader record first")
		return false, idle
	}
	s.contacted()
	self := s.cfg.Self
	if err := s.node.Bootstrap(store.Server{ID: self.ID, Addr: self.RaftAddr, Voter: true}); err != nil {
		s.logger.Error("bootstrap after claiming the leader record", "error", err)
		return false, idle
	}
	s.logger.Info("claimed the leader record; bootstrapped a cluster of this node")
	return true, 0
}

// join asks addr to add this node, JoinAttempts times JoinInterval apart.
func (s *KVService) join(ctx context.Context, addr string) error {
	self := s.cfg.Self
	req := cluster.JoinRequest{ID: self.ID, Addr: self.RaftAddr, Voter: self.Voter}
	var err error
	for attempt := range s.cfg.JoinAttempts {
		if attempt > 0 {
			if serr := sleep(ctx, s.cfg.JoinInterval); serr != nil {
				return errors.Join(err, serr)
			}
		}
		cctx, cancel := context.WithTimeout(self.ctx(ctx), s.cfg.CallTimeout)
		_, err = s.cluster.Join(cctx, addr, req)
		cancel()
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("%d attempts: %w", s.cfg.JoinAttempts, err)
}

// Report writes the leader record whenever this node becomes leader and
// every ReportInterval while it leads, until ctx ends.
func (s *KVService) Report(ctx context.Context) {
	t := time.NewTicker(s.cfg.LeaderPoll)
	defer t.Stop()
	var written time.Time // zero: not written during this leadership
	for {
		if !s.node.IsLeader() {
			written = time.Time{}
		} else if written.IsZero() || time.Since(written) >= s.cfg.ReportInterval {
			if err := s.kv.SetLeader(ctx, s.record()); err != nil {
				s.logger.Warn("write leader record", "error", err)
			} else {
				if written.IsZero() {
					s.logger.Info("leader record written")
				}
				written = time.Now()
				s.contacted()
			}
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

func (s *KVService) record() LeaderRecord {
	return LeaderRecord{ID: s.cfg.Self.ID, APIAddr: s.cfg.Self.APIURL, Addr: s.cfg.Self.RaftAddr}
}

func (s *KVService) contacted() {
	s.mu.Lock()
	s.lastContact = time.Now()
	s.mu.Unlock()
}

// Stats is the /status "disco" section of the key-value modes.
func (s *KVService) Stats() map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]any{"mode": s.cfg.Mode, "register_interval": s.cfg.RegisterInterval,
		"report_interval": s.cfg.ReportInterval}
	if !s.lastContact.IsZero() {
		m["last_contact"] = s.lastContact
	}
	return m
}

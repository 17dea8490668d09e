package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/rdb/rdb/store"
)

// Service answers membership questions for the HTTP layer (it implements
// http.Cluster) and serves this node's side of the RPC channel (Handler).
type Service struct {
	cfg    Config
	local  Local
	client *Client
	proxy  *Proxy
	logger *slog.Logger
	boot   *notifyRegistry

	mu        sync.Mutex
	leaderAPI leaderAPICache
}

type leaderAPICache struct {
	raftAddr string
	apiURL   string
	expires  time.Time
}

// NewService returns a Service for proxy's local store, reaching other
// nodes through proxy (the node's one Proxy, which the HTTP API shares).
func NewService(cfg Config, proxy *Proxy, logger *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if proxy == nil || proxy.local == nil || proxy.client == nil {
		return nil, errors.New("cluster service: nil proxy, local store or client")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{
		cfg: cfg, local: proxy.local, client: proxy.client, proxy: proxy,
		logger: logger.With("component", "cluster"), boot: newNotifyRegistry(cfg.BootstrapExpect),
	}, nil
}

// Nodes lists the members, voters only unless nonVoters, sorted by ID. It
// probes every other member in parallel, each for at most ProbeTimeout;
// this node answers for itself.
func (s *Service) Nodes(ctx context.Context, nonVoters bool) ([]Node, error) {
	servers, err := s.local.Servers()
	if err != nil {
		return nil, fmt.Errorf("read cluster configuration: %w", err)
	}
	leaderID := s.local.LeaderID()
	nodes := make([]Node, 0, len(servers))
	for _, srv := range servers {
		if srv.Voter || nonVoters {
			nodes = append(nodes, Node{ID: srv.ID, Addr: srv.Addr, Voter: srv.Voter, Leader: leaderID != "" && srv.ID == leaderID})
		}
	}
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() { s.probe(ctx, &nodes[i]) })
	}
	wg.Wait()
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	return nodes, nil
}

// probe fills n's reachability, API address, version and timing.
func (s *Service) probe(ctx context.Context, n *Node) {
	start := time.Now()
	defer func() {
		d := time.Since(start)
		n.Time, n.TimeS = d.Seconds(), d.String()
	}()
	if n.ID == s.cfg.NodeID {
		n.APIAddr, n.Version, n.Reachable = s.cfg.APIURL, s.cfg.Version, true
		return
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProbeTimeout)
	defer cancel()
	meta, err := s.client.Meta(ctx, n.Addr)
	if err != nil {
		n.Error = err.Error()
		if errors.Is(err, ErrNodeTimeout) {
			n.Error = ErrNodeTimeout.Error()
		}
		return
	}
	n.APIAddr, n.Version, n.Reachable = meta.APIURL, meta.Version, true
	if n.Leader {
		s.cacheLeaderAPI(n.Addr, meta.APIURL)
	}
}

// LeaderAPIAddr is the leader's HTTP API URL: this node's own, or asked of
// the leader over RPC and cached for LeaderCacheTTL. store.ErrLeaderNotFound
// if no leader is known.
func (s *Service) LeaderAPIAddr(ctx context.Context) (string, error) {
	leader := s.local.LeaderAddr()
	if leader == "" {
		return "", store.ErrLeaderNotFound
	}
	if leader == s.cfg.RaftAddr || s.local.LeaderID() == s.cfg.NodeID {
		return s.cfg.APIURL, nil
	}
	if url, ok := s.cachedLeaderAPI(leader); ok {
		return url, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProbeTimeout)
	defer cancel()
	meta, err := s.client.Meta(ctx, leader)
	if err != nil {
		return "", fmt.Errorf("ask leader %s for its API address: %w", leader, err)
	}
	s.cacheLeaderAPI(leader, meta.APIURL)
	return meta.APIURL, nil
}

func (s *Service) cachedLeaderAPI(raftAddr string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.leaderAPI
	if c.raftAddr != raftAddr || time.Now().After(c.expires) {
		return "", false
	}
	return c.apiURL, true
}

func (s *Service) cacheLeaderAPI(raftAddr, apiURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leaderAPI = leaderAPICache{raftAddr: raftAddr, apiURL: apiURL, expires: time.Now().Add(s.cfg.LeaderCacheTTL)}
}

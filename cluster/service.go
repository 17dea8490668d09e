package cluster

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/rdb/rdb/store"
)

// Config describes this node to the cluster layer.
type Config struct {
	// NodeID and RaftAddr identify this node in the Raft configuration.
	NodeID   string
	RaftAddr string
	// APIURL is this node's advertised HTTP API address with scheme.
	APIURL string
	// Version is reported in /nodes.
	Version string
}

// errUnknownAPIAddr is reported for members whose HTTP address this node
// cannot learn yet (the lookup RPC arrives with clustering).
var errUnknownAPIAddr = errors.New("API address of node unknown to this node")

// Service answers membership questions for the HTTP layer.
type Service struct {
	cfg   Config
	local Local
}

// NewService returns a Service for the local store.
func NewService(cfg Config, local Local) *Service {
	return &Service{cfg: cfg, local: local}
}

// Nodes lists the cluster members, voters only unless nonVoters.
func (s *Service) Nodes(ctx context.Context, nonVoters bool) ([]Node, error) {
	servers, err := s.local.Servers()
	if err != nil {
		return nil, err
	}
	leader := s.local.LeaderAddr()
	nodes := make([]Node, 0, len(servers))
	for _, srv := range servers {
		if !srv.Voter && !nonVoters {
			continue
		}
		nodes = append(nodes, s.probe(srv, leader))
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].ID < nodes[j].ID })
	return nodes, nil
}

// probe describes one member. Only the local node can be described fully
// until the inter-node channel exists.
func (s *Service) probe(srv store.Server, leader string) Node {
	start := time.Now()
	n := Node{ID: srv.ID, Addr: srv.Addr, Voter: srv.Voter, Leader: srv.Addr == leader && leader != ""}
	if srv.ID == s.cfg.NodeID {
		n.APIAddr, n.Version, n.Reachable = s.cfg.APIURL, s.cfg.Version, true
	} else {
		n.Error = errUnknownAPIAddr.Error()
	}
	d := time.Since(start)
	n.Time, n.TimeS = d.Seconds(), d.String()
	return n
}

// LeaderAPIAddr is the leader's HTTP API URL.
func (s *Service) LeaderAPIAddr(ctx context.Context) (string, error) {
	leader := s.local.LeaderAddr()
	if leader == "" {
		return "", store.ErrLeaderNotFound
	}
	if leader == s.cfg.RaftAddr {
		return s.cfg.APIURL, nil
	}
	return "", store.ErrLeaderNotFound
}

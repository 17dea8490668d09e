package cluster

import (
	"errors"
	"fmt"
	"time"

	"github.com/rdb/rdb/internal/auth"
)

// Config describes this node to the cluster layer.
type Config struct {
	// NodeID and RaftAddr (advertised) identify this node in the Raft
	// configuration.
	NodeID   string
	RaftAddr string
	// APIURL is this node's advertised HTTP API address with scheme.
	APIURL string
	// Version is reported in node meta and /nodes.
	Version string
	// BootstrapExpect is -bootstrap-expect: once notifies name this many
	// voters and the node has no state, it bootstraps them. 0 ignores
	// notifies.
	BootstrapExpect int
	// ProbeTimeout bounds each member probe of Nodes and the leader
	// lookup of LeaderAPIAddr (a shorter context deadline wins).
	ProbeTimeout time.Duration
	// LeaderCacheTTL is how long LeaderAPIAddr reuses a looked-up leader
	// API address.
	LeaderCacheTTL time.Duration
	// Auth, when set, checks the credentials every RPC carries (-auth);
	// nil allows everything.
	Auth auth.Authorizer
}

// DefaultConfig returns a Config with a 5 s probe timeout and a 2 s
// leader-address cache; the identity fields are left for the caller.
func DefaultConfig() Config {
	return Config{ProbeTimeout: 5 * time.Second, LeaderCacheTTL: 2 * time.Second}
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("cluster config: empty node ID")
	case c.RaftAddr == "":
		return errors.New("cluster config: empty Raft address")
	case c.APIURL == "":
		return errors.New("cluster config: empty API URL")
	case c.BootstrapExpect < 0:
		return fmt.Errorf("cluster config: bootstrap-expect %d: must not be negative", c.BootstrapExpect)
	case c.ProbeTimeout <= 0:
		return fmt.Errorf("cluster config: probe timeout %v: must be positive", c.ProbeTimeout)
	case c.LeaderCacheTTL < 0:
		return fmt.Errorf("cluster config: leader cache TTL %v: must not be negative", c.LeaderCacheTTL)
	}
	return nil
}

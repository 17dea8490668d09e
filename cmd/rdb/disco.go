package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/rdb/rdb/disco"
)

// Flag-validation messages are rqlited's (OPS.md §1.1).
var errDiscoMode = errors.New("disco mode must be one of consul-kv, etcd-kv, dns, or dns-srv")

// validateDisco checks the -disco-* flags and the reap timeouts as
// rqlited does (OPS.md §1.1, §6), and parses -disco-config so a bad one
// stops the node before it starts.
func (c *Config) validateDisco() error {
	for _, f := range []struct {
		name string
		set  bool
		v    time.Duration
	}{{"raft-reap-node-timeout", c.reapSet, c.RaftReapNodeTimeout}, {"raft-reap-read-only-node-timeout", c.reapReadOnlySet, c.RaftReapReadOnlyTimeout}} {
		if (f.set && f.v <= 0) || f.v < 0 {
			return fmt.Errorf("-%s must be greater than 0", f.name)
		}
	}
	if c.DiscoMode == "" {
		return nil
	}
	switch {
	case !disco.IsMode(c.DiscoMode):
		return errDiscoMode
	case !disco.IsKV(c.DiscoMode) && c.BootstrapExpect == 0 && !c.RaftNonVoter:
		return fmt.Errorf("bootstrap-expect value required when using %s with a voting node", c.DiscoMode)
	case disco.IsKV(c.DiscoMode) && c.BootstrapExpect > 0:
		return fmt.Errorf("bootstrapping not applicable when using %s", c.DiscoMode)
	case c.JoinAddrs != "":
		return errors.New("disco mode cannot be used when also explicitly joining a cluster")
	}
	_, err := c.discoConfig()
	return err
}

// discoConf is -disco-config parsed for the chosen mode.
type discoConf struct {
	dns    disco.DNSConfig
	srv    disco.DNSSRVConfig
	consul disco.ConsulConfig
	etcd   disco.EtcdConfig
}

func (c *Config) discoConfig() (discoConf, error) {
	var (
		dc  discoConf
		err error
	)
	text := disco.ReadConfig(c.DiscoConfig, os.Getenv)
	switch c.DiscoMode {
	case disco.ModeDNS:
		dc.dns, err = disco.ParseDNSConfig(text)
	case disco.ModeDNSSRV:
		dc.srv, err = disco.ParseDNSSRVConfig(text)
	case disco.ModeConsul:
		dc.consul, err = disco.ParseConsulConfig(text, os.Getenv)
	case disco.ModeEtcd:
		dc.etcd, err = disco.ParseEtcdConfig(text)
	}
	if err != nil {
		return dc, fmt.Errorf("-disco-config: %w", err)
	}
	return dc, nil
}

// discovery is a node's -disco-mode: the dns/dns-srv boot loop, or the
// etcd/consul registration and leader reporting.
type discovery struct {
	stats  func() map[string]any
	booter *disco.Booter
	kv     *disco.KVService
	// stopReport ends the leader reporter of the key-value modes;
	// reportDone closes when it has.
	stopReport context.CancelFunc
	reportDone chan struct{}
}

// newDiscovery builds the node's discovery from its flags; nil without
// -disco-mode. It needs the store and the cluster client.
func (n *node) newDiscovery() (*discovery, error) {
	cfg := n.cfg
	if cfg.DiscoMode == "" {
		return nil, nil
	}
	dc, err := cfg.discoConfig()
	if err != nil {
		return nil, err
	}
	self := disco.Self{ID: cfg.NodeID, RaftAddr: cfg.RaftAdvAddr, APIURL: cfg.apiURL(), Voter: !cfg.RaftNonVoter,
		Credentials: n.sec.joinAs}
	d := &discovery{}
	var lookup disco.Lookuper
	switch cfg.DiscoMode {
	case disco.ModeDNS:
		_, p, _ := net.SplitHostPort(cfg.RaftAddr)
		port, _ := strconv.Atoi(p)
		l := disco.NewDNS(dc.dns, port, os.Getenv("RQLITE_DISCO_DNS_HOSTS"), nil)
		lookup, d.stats = l, l.Stats
	case disco.ModeDNSSRV:
		l := disco.NewDNSSRV(dc.srv, nil)
		lookup, d.stats = l, l.Stats
	default:
		return n.newKVDiscovery(d, dc, self)
	}
	bc := disco.DefaultBootConfig()
	bc.Self, bc.Timeout = self, cfg.BootstrapExpectTimeout
	if d.booter, err = disco.NewBooter(bc, lookup, n.store, n.client, n.logger); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	return d, nil
}

func (n *node) newKVDiscovery(d *discovery, dc discoConf, self disco.Self) (*discovery, error) {
	cfg := n.cfg
	var (
		kv  disco.KV
		err error
	)
	if cfg.DiscoMode == disco.ModeEtcd {
		kv, err = disco.NewEtcd(dc.etcd, cfg.DiscoKey)
	} else {
		kv, err = disco.NewConsul(dc.consul, cfg.DiscoKey)
	}
	if err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	kc := disco.DefaultKVConfig()
	kc.Mode, kc.Self = cfg.DiscoMode, self
	kc.JoinAttempts, kc.JoinInterval = cfg.JoinAttempts, cfg.JoinInterval
	if d.kv, err = disco.NewKVService(kc, kv, n.store, n.client, n.logger); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	d.stats = d.kv.Stats
	return d, nil
}

// discover forms or joins the cluster through discovery. The key-value
// modes also start the leader reporter, which runs until Close, also on a
// node with state.
func (n *node) discover(ctx context.Context, has bool) error {
	d, mode := n.disco, n.cfg.DiscoMode
	if d.kv != nil {
		rctx, cancel := context.WithCancel(context.Background())
		d.stopReport, d.reportDone = cancel, make(chan struct{})
		go func() { defer close(d.reportDone); d.kv.Report(rctx) }()
		if err := d.kv.Register(ctx); err != nil {
			return fmt.Errorf("discovery (%s): %w", mode, err)
		}
		return nil
	}
	if has {
		n.logger.Info("existing Raft state found; discovery not needed", "mode", mode)
		return nil
	}
	if err := d.booter.Boot(ctx); err != nil {
		if errors.Is(err, disco.ErrBootTimeout) {
			return fmt.Errorf("clustering failure: %w", err)
		}
		return fmt.Errorf("discovery (%s): %w", mode, err)
	}
	n.logger.Info("cluster formed or joined through discovery", "mode", mode)
	return nil
}

// closeDiscovery stops the leader reporter.
func (n *node) closeDiscovery() {
	if d := n.disco; d != nil && d.stopReport != nil {
		d.stopReport()
		<-d.reportDone
	}
}

// discoStatus adds the /status "disco" section when discovery is on.
func (n *node) discoStatus(reporters map[string]func() (map[string]any, error)) {
	if d := n.disco; d != nil {
		reporters["disco"] = func() (map[string]any, error) { return d.stats(), nil }
	}
}

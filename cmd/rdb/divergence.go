package main

import (
	"context"
	"fmt"

	"github.com/rdb/rdb/cluster"
)

// newVerifier creates the node's divergence detection and adds its
// "divergence" section to /status.
func (n *node) newVerifier(reporters map[string]func() (map[string]any, error)) error {
	vc := cluster.DefaultVerifierConfig()
	vc.NodeID, vc.Interval, vc.Timeout = n.cfg.NodeID, n.cfg.DivergenceCheckInterval, n.cfg.DivergenceCheckTimeout
	v, err := cluster.NewVerifier(vc, n.store, n.client, n.logger)
	if err != nil {
		return fmt.Errorf("create divergence check: %w", err)
	}
	n.verifier = v
	reporters["divergence"] = v.Status
	return nil
}

// startVerifier runs the periodic check until Close.
func (n *node) startVerifier() {
	ctx, cancel := context.WithCancel(context.Background())
	n.stopVerify = cancel
	go n.verifier.Run(ctx)
}

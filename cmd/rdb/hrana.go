package main

import (
	"fmt"

	"github.com/rdb/rdb/hrana"
)

// newHrana creates the Hrana endpoints' server (libSQL clients) on the
// node's proxy and store, with the -auth file's users and tokens.
func newHrana(cfg *Config, n *node) (*hrana.Server, error) {
	hc := hrana.DefaultConfig()
	hc.IdleTimeout = cfg.TxIdleTimeout
	hc.Logger = n.logger
	if a, ok := n.sec.httpAuth().(hrana.Authorizer); ok {
		hc.Auth = a
	}
	s, err := hrana.New(hc, n.proxy, n.store)
	if err != nil {
		return nil, fmt.Errorf("create Hrana server: %w", err)
	}
	return s, nil
}

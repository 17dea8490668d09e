// Package cluster owns node-to-node concerns: serving a request locally when
// this node can and otherwise forwarding it to the leader (Proxy), and
// answering membership questions that need other nodes (Service: /nodes,
// the leader's API address).
//
// Today rdb runs single-node clusters, so Proxy serves locally and reports
// store.ErrNotLeader or store.ErrLeaderNotFound instead of forwarding; the
// inter-node RPC channel on -raft-addr (join, forwarding, API-address
// lookup) lands with clustering. cluster must not import http or cmd/rdb,
// and must not talk to hashicorp/raft directly: store translates Raft.
package cluster

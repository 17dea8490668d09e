// Package cluster owns the inter-node RPC channel on -raft-addr (the
// connections internal/mux hands it for mux.HeaderRPC; Raft gets the
// others through mux's Layer) and every operation that needs another node:
//
//   - RPC (Server, Client): length-prefixed msgpack frames carrying node
//     meta, join, notify, remove, stepdown and forwarded execute, query and
//     request, each with the caller's Credentials. Parameter and result
//     values travel with explicit kinds; errors travel as text plus a code
//     that restores the store and db sentinels.
//   - Proxy: serve a client request locally, or forward it to the leader.
//   - Service: /nodes and the leader's API address for the HTTP layer, and
//     the RPC Handler that dispatches to the local store.
//   - Joiner and Bootstrapper: -join and -bootstrap-expect.
//
// cluster must not import http or cmd/rdb, and must not import
// hashicorp/raft: store translates Raft and its errors. It carries the
// caller's credentials with every RPC, and the serving node's Handler
// checks them against Config.Auth (the -auth store cmd/rdb passes in), so
// a leader re-checks what a follower forwarded. TLSConfig builds the
// node-to-node TLS of mux.Config and ClientConfig. It does not read
// flags or environment (cmd/rdb fills the Configs), and never forwards a
// call that was itself forwarded: it is served where it lands, so requests
// cannot bounce between nodes that disagree about the leader.
//
// Backups and loads (/db/backup, /db/load) are not forwarded here: http
// proxies them to the leader's HTTP API, streamed both ways. The RPC
// channel carries one msgpack message per call, at most MaxFrameSize
// (64 MiB), while a backup is as large as the database and a load may be
// up to store.MaxLoadSize (64 GiB); carrying them here would need either
// the whole file in memory or a second, streaming protocol on the Raft
// port. The HTTP proxy sends the caller's Authorization header, so the
// leader checks the same credentials as for a forwarded RPC.
package cluster

// Package httpd is rdb's client-facing HTTP API, wire-compatible with
// rqlite (see shared/API.md §0–§1, §2, §3.3).
//
// It owns routing (echo), query-parameter validation, parsing request
// bodies into db.Statements, rendering results as byte-exact JSON, mapping
// errors to status codes (errors.go is the one place that does), the
// queued-write batcher (queue.go) and the diagnostic endpoints (/status,
// /nodes, /leader, /readyz, /debug/vars, /debug/pprof). It also owns the
// API's security (§0, §6): Basic-auth permission checks against an
// internal/auth Authorizer (auth.go), HTTPS with certificate reload (tls.go), and
// server limits — header size, timeouts, requests in flight (limits.go).
//
// It must not run SQL, talk to Raft or to other nodes itself: it only calls
// the Database, Store and Cluster interfaces in interfaces.go, which
// cmd/rdb wires to cluster.Proxy, store.Store and the cluster service.
// Nothing imports this package except cmd/rdb.
package httpd

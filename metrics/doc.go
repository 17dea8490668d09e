// Package metrics owns a node's Prometheus registry: the series GET
// /metrics serves and an OTLP exporter may push.
//
// Most series are read when scraped, from counters and state the node
// keeps anyway (the store's Metrics, the write queue, the forwarding
// counter), so they cost nothing between scrapes. The few that must be
// recorded as work happens (HTTP requests, FSM applies, Raft log appends,
// snapshots) are histograms and counters whose updates are atomic
// operations on children resolved once, never a lock or an allocation.
//
// The package does not serve HTTP routes, check permissions or import
// package http: the HTTP service mounts the Registry's handler and
// reports requests through the small interfaces it declares.
package metrics

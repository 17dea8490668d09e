// Package loadgen is the load generator behind `rdb bench`: it drives any
// server that speaks rqlite's HTTP API (one node or several, requests
// spread round-robin) with closed-loop clients running a workload (single
// row writes, bulk writes, point reads at a consistency level, or a mix),
// and measures throughput and latency.
//
// A run is bounded twice, by a request count and by a duration, whichever
// comes first. A request counts as failed when the HTTP call fails, the
// status is not 200, the body is not rqlite's JSON, or the body reports an
// error, top-level or in any results[i].error. Latency percentiles are
// nearest-rank over the successful requests.
//
// It owns its table (created if missing, dropped afterwards unless
// Config.Keep). It must not parse flags, read the environment, decide
// whether a terminal is attached (the caller passes a progress writer or
// none), or call os.Exit.
package loadgen

// Package cdc is rdb's change data capture (OPS.md §3): it turns the row
// changes each node captures while applying log entries (db.ChangeSink)
// into the JSON envelope of OPS.md §3.2, keeps them in a durable per-node
// queue in the data directory, and, on the leader only, sends them to an
// HTTP endpoint (or stdout) in order, retrying until delivered. The
// leader tells the other voters the highest delivered index (the
// high-water mark) over the inter-node channel, so every node can prune
// its queue, and whichever node leads next resends only what may not have
// arrived: delivery is at least once.
//
// It does not capture anything itself (package db does, on the apply
// goroutine), never talks to Raft, and never exits the process.
package cdc

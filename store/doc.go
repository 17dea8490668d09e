// Package store owns the Raft node and its FSM: it encodes client requests
// as msgpack commands, replicates them through hashicorp/raft, applies
// committed entries to the node's SQLite database (package db), serves reads
// at the consistency levels of API.md §2, takes and restores snapshots
// (package snapshot) and reports membership and status.
//
// store is the only package that imports hashicorp/raft (besides snapshot),
// and it translates raft's errors into its own sentinels (errors.go). It
// must not know about HTTP, forwarding or authentication: a request that
// needs the leader fails here with ErrNotLeader and package cluster decides
// what to do with it. It never reads flags or the environment.
package store

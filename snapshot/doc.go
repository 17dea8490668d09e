// Package snapshot owns the on-disk and on-the-wire format of a Raft
// snapshot and the raft.SnapshotStore that keeps them.
//
// A snapshot stream is a header (magic "RDBSNAP", format version, index,
// term, payload length), a payload streamed as it is (a whole database
// file, or the WAL since the previous snapshot), and a trailing SHA-256
// checksum over header and payload. Write and Read stream: a database is
// never held in memory. The Store keeps one base database and the WALs on
// top of it, folds old WALs into the base, and rebuilds whole databases
// for raft (DESIGN.md).
//
// The package knows nothing about SQLite, the FSM or the store: it moves
// files in and out of snapshots and verifies them. It must not import other
// rdb packages; folding a WAL into a database is a function the caller
// provides.
package snapshot

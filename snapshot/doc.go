// Package snapshot owns the on-disk and on-the-wire format of a Raft
// snapshot and the raft.SnapshotStore that keeps them.
//
// A snapshot is a header (magic "RDBSNAP", format version, payload length),
// the bytes of a SQLite database file streamed as they are, and a trailing
// SHA-256 checksum over header and payload. Write and Read stream: a
// database is never held in memory.
//
// The package knows nothing about SQLite, the FSM or the store: it moves
// files in and out of snapshots and verifies them. It must not import other
// rdb packages, and callers must not depend on the layout of the payload,
// which a later format version will change (incremental WAL frames).
package snapshot

// Package hrana serves libSQL's Hrana protocol over HTTP (v2 and v3
// JSON pipelines, the v3 cursor endpoint; /work/shared/HRANA.md is the
// contract), so unmodified libSQL clients (@libsql/client,
// libsql-client-go, the Rust libsql crate) can use rdb, including
// interactive transactions.
//
// A stream is a sequence of pipelines tied together by batons. Streams
// live on the leader: a follower forwards the whole HTTP request there
// (package http does, with the caller's headers). Outside a transaction
// a statement is an ordinary request (reads served locally at the
// leader, writes through the Raft log, each its own entry); BEGIN takes
// the leader's write slot and opens a store.Tx, whose statements run
// speculatively and whose COMMIT is one log entry (store/DESIGN.md,
// "Interactive transactions").
package hrana

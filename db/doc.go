// Package db owns one SQLite database file (modernc.org/sqlite, pure Go):
// opening it in WAL mode, running requests on it (ApplyBatch for the Raft
// apply path, Apply for one request outside it, Query for local reads),
// classifying statements as reads or writes, rendering values as rqlite
// does, and copying, restoring, checkpointing and dumping it.
//
// It must not know about Raft, HTTP or other nodes: it never decides where
// a request runs, never retries, and never logs on the request path. Only
// the store's FSM calls ApplyBatch, one batch of entries at a time.
//
// # Connections
//
// One long-lived write connection (held as a *sql.Conn for the life of the
// DB, so last_insert_rowid() stays sticky across requests as rqlite
// clients expect; rows_affected is kept sticky on rdb's side, and prepared
// statements are cached on it) and a separate read-only pool (mode=ro), so reads
// never wait for the writer. busy_timeout is 5000 and foreign_keys follows
// Config.FKConstraints on both. The write connection has synchronous
// NORMAL (consistent through power loss; the Raft log is the durable
// record) and wal_autocheckpoint 0: only the store checkpoints, when it
// snapshots, so the WAL holds every change since the previous snapshot
// (CopyWAL). The read-only connections have rqlite's synchronous 0 and
// wal_autocheckpoint 1000, which they can never act on: they write no
// frames, and SQLite checkpoints automatically only after a commit that
// wrote frames on the same connection (open.go).
// Double-quoted string literals are accepted (SQLite's default).
//
// # Applied position
//
// ApplyBatch runs consecutive Raft entries, normally in one SQLite
// transaction, and records each entry's index and term in the table
// AppliedTable after it, so the file always says which log prefix it holds
// and every entry starts from the same connection state whatever the batch
// (store/DESIGN.md, "Batch boundaries must not matter"). CheckFile, StampFile, PrepareBackup
// and ApplyWAL work on database files outside a DB (uploads, backups,
// snapshots).
//
// # Reads and writes
//
// modernc does not expose sqlite3_stmt_readonly. Every connection gets an
// authorizer (installed by a connection hook) that never denies but notes
// whether preparing a statement requested a write action (INSERT, UPDATE,
// DELETE, CREATE/DROP/ALTER, REINDEX, ANALYZE, ATTACH, DETACH, a PRAGMA
// setting a value). VACUUM has no action code and is recognised by its
// leading keyword; EXPLAIN always counts as a read; a statement that fails
// to prepare counts as a write. A multi-statement string is split the way
// sqlite3_complete() sees statements (trigger bodies stay whole) and is a
// read only if every part is.
//
// # Determinism
//
// rqlite rewrites RANDOM() and 'now' into literals before logging. rdb
// does not rewrite SQL on the apply path; it makes the apply path
// deterministic instead. The write connection comes from a private
// *sqlite.Driver on which application-defined functions override the
// built-ins: random() and randomblob(N) draw from a PRNG seeded with
// Env.Seed (the Raft index) and reset at the start of each Apply; date,
// time, datetime, julianday, unixepoch, strftime, timediff and
// CURRENT_TIMESTAMP/DATE/TIME evaluate SQLite's real built-in on a private
// in-memory helper connection with every 'now' replaced by Env.Now
// (millisecond precision, as SQLite's own clock). Textual rewriting cannot
// reach a RANDOM() or 'now' inside a trigger body or a column DEFAULT, and
// must leave ORDER BY RANDOM() alone, so replicas would diverge there; the
// overrides fire wherever SQLite evaluates the function. The time
// functions are registered deterministic so expression indexes and
// generated columns using date() keep working. Request.NoRandom and
// NoTime fall back to crypto/rand and the wall clock. Read connections
// keep the real built-ins. Rewrite exists only to preview rqlite's
// rewriting for /db/sql.
//
// # Values
//
// Values follow mattn/go-sqlite3 as rqlite renders them (API.md §1.4).
// One known difference: modernc parses TEXT in DATE/DATETIME/TIMESTAMP
// columns itself, and besides mattn's formats it also accepts Go's
// time.String() form ("2006-01-02 15:04:05.999999999 -0700 MST"), which
// rdb therefore renders as that time where rqlite would show the zero
// time. Parsed times keep the offset they were written with, as mattn and
// rqlite do; INTEGER times are UTC.
package db

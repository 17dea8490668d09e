package db

import "time"

// Parameter is one value bound to a statement. Name is empty for a
// positional parameter; for a named one it is the key without its prefix
// (SQLite binds it to :Name, @Name or $Name).
//
// Value is one of: nil, int64, float64, string, []byte or bool (bound as
// 1/0). Any other type is refused by CheckRequest.
type Parameter struct {
	Name  string
	Value any
}

// Statement is one SQL statement with its bound parameters.
type Statement struct {
	SQL        string
	Parameters []Parameter
}

// Mode says how a request's statements are run.
type Mode uint8

const (
	// ModeExecute runs every statement as a write. A statement that both
	// writes and returns rows (RETURNING) yields a rows entry; a pure read
	// yields a write entry with the connection's (sticky) counters.
	ModeExecute Mode = iota
	// ModeQuery runs every statement as a read; a statement that would
	// change the database fails with ErrQueryWrite's text in its slot.
	ModeQuery
	// ModeRequest decides per statement: read-only statements yield rows
	// entries, the others run as writes.
	ModeRequest
)

// Request is what one HTTP request asks the database to run.
type Request struct {
	Statements []Statement
	// Transaction wraps all statements in BEGIN…COMMIT; the first failure
	// rolls back and stops (API.md §3.1).
	Transaction bool
	// Timeout bounds each statement (db_timeout); zero means none.
	Timeout time.Duration
	// NoRandom and NoTime turn off deterministic RANDOM()/RANDOMBLOB() and
	// 'now' on the apply path (?norwrandom, ?norwtime).
	NoRandom bool
	NoTime   bool
	// NoParse turns off RETURNING detection (?noparse): every statement
	// in ModeExecute yields a write entry.
	NoParse bool
	// Timings asks for the per-statement Time field.
	Timings bool
	// Raw returns rows as SQLite stores them (no API.md §1.4 conversion):
	// declared types as written (empty when none), BLOBs as []byte in any
	// column, integers in date columns as int64; only TEXT that the driver
	// parsed as a date is rendered back as text (RawTimeLayout). The
	// Hrana endpoints use it.
	Raw bool
}

// Result is one entry of a response's "results" array.
//
// Exactly one shape applies: a rows entry (Rows true: Columns, Types,
// Values, maybe Error), a write entry (LastInsertID, RowsAffected, maybe
// Error), or a statement error (only Error). Values hold nil, int64,
// float64, string, []byte or bool, already converted per API.md §1.4
// (dates rendered as RFC 3339 text, a BLOB in a text-like column as a
// string); the HTTP layer only chooses how to render []byte.
type Result struct {
	Rows         bool
	Columns      []string
	Types        []string
	Values       [][]any
	LastInsertID int64
	RowsAffected int64
	Error        string
	// Time is the statement's execution time in seconds, set only when
	// the request asked for timings.
	Time float64
}

// Env is what makes the apply path deterministic: every node applying the
// same log entry passes the same Env, so RANDOM(), RANDOMBLOB(N) and every
// 'now' (including inside triggers and INSERT … SELECT) produce the same
// values everywhere.
type Env struct {
	// Seed seeds the PRNG behind RANDOM() and RANDOMBLOB(); the store uses
	// the Raft log index.
	Seed uint64
	// Now is the leader-stamped time carried in the command.
	Now time.Time
}

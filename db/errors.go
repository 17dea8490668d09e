package db

import "errors"

var (
	// ErrResultTooLarge is the slot error of a query whose rows exceed
	// Config.MaxResultBytes.
	ErrResultTooLarge = errors.New("query result too large")
	// ErrDisallowedPragma rejects a whole request containing a PRAGMA that
	// would break replication (API.md §3.1). Nothing is applied.
	ErrDisallowedPragma = errors.New("disallowed pragma")
	// ErrDisallowedStatement rejects a whole request containing a
	// statement that would reach outside the database file: ATTACH of any
	// file, or VACUUM INTO a file. Nothing is applied.
	ErrDisallowedStatement = errors.New("disallowed statement")
	// ErrQueryWrite is the per-statement error for a write attempted on
	// the read path.
	ErrQueryWrite = errors.New("attempt to change database via query operation")
	// ErrUnsupportedType rejects a parameter whose Go type cannot be bound.
	ErrUnsupportedType = errors.New("unsupported type")
	// ErrClosed is returned by a DB that has been closed.
	ErrClosed = errors.New("db: closed")
	// ErrNotSQLite rejects a Restore from a file that is not a SQLite
	// database.
	ErrNotSQLite = errors.New("db: not a SQLite database")
	// ErrCorrupt rejects a SQLite file that fails its integrity check
	// (corrupt or truncated).
	ErrCorrupt = errors.New("db: database file is corrupt")
	// ErrCheckpointBusy means a checkpoint could not complete because
	// readers held the WAL; it is safe to retry.
	ErrCheckpointBusy = errors.New("db: checkpoint incomplete, database busy")
)

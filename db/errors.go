package db

import "errors"

var (
	// ErrDisallowedPragma rejects a whole request containing a PRAGMA that
	// would break replication (API.md §3.1). Nothing is applied.
	ErrDisallowedPragma = errors.New("disallowed pragma")
	// ErrQueryWrite is the per-statement error for a write attempted on
	// the read path.
	ErrQueryWrite = errors.New("attempt to change database via query operation")
	// ErrUnsupportedType rejects a parameter whose Go type cannot be bound.
	ErrUnsupportedType = errors.New("unsupported type")
	// ErrClosed is returned by a DB that has been closed.
	ErrClosed = errors.New("db: closed")
)

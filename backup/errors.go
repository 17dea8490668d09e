package backup

import "errors"

// Configuration errors. Their texts are rqlite's (OPS.md §2.1), which
// operators and scripts may match.
var (
	// ErrInvalidVersion is a config version above 1.
	ErrInvalidVersion = errors.New("invalid version")
	// ErrUnsupportedType is a storage type other than those supported.
	ErrUnsupportedType = errors.New("unsupported storage type")
	// ErrInvalidInterval is a missing, zero or negative upload interval.
	ErrInvalidInterval = errors.New("invalid interval")
	// ErrInvalidTimeout is a zero or negative restore timeout.
	ErrInvalidTimeout = errors.New("invalid timeout")
	// ErrNotSQLite is a downloaded restore that is not a SQLite file.
	ErrNotSQLite = errors.New("downloaded file is not a SQLite database")
	// ErrNoStoredID means the storage holds no backup ID (nothing was
	// uploaded yet, or by something else).
	ErrNoStoredID = errors.New("no stored backup ID")
)

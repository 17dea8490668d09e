package db

import (
	"context"
	"errors"
	"io"
	"time"
)

// STUB: signatures are the contract; the bodies are being written.
var errTODO = errors.New("db: not implemented yet")

// Config says how to open a database.
type Config struct {
	// Path is the SQLite file.
	Path string
	// FKConstraints enables foreign keys on every connection (-fk).
	FKConstraints bool
	// MaxReadConns bounds the read-only pool (-db-max-ro-conns).
	MaxReadConns int
}

// DefaultConfig returns rqlite's defaults.
func DefaultConfig() Config { return Config{MaxReadConns: 256} }

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.Path == "" {
		return errors.New("db: empty path")
	}
	return nil
}

// DB is one SQLite database: one long-lived write connection used only by
// the apply path, and a read-only pool for local reads.
type DB struct{}

// Open opens (creating if needed) the database at cfg.Path in WAL mode.
func Open(cfg Config) (*DB, error) { return nil, errTODO }

// Close closes every connection.
func (d *DB) Close() error { return errTODO }

// Apply runs req on the write connection in the given mode. It is called
// only by the FSM, one entry at a time, with the entry's Env; statement
// errors are returned inside the Results, the error is for failures of the
// database itself.
func (d *DB) Apply(ctx context.Context, req *Request, mode Mode, env Env) ([]Result, error) {
	return nil, errTODO
}

// Query runs req's statements on a read-only connection; a write fails
// with ErrQueryWrite in its slot.
func (d *DB) Query(ctx context.Context, req *Request) ([]Result, error) { return nil, errTODO }

// ReadOnly reports whether every statement is read-only in the sense of
// sqlite3_stmt_readonly; a statement that cannot be prepared counts as a
// write (so it goes through the log, where its error surfaces).
func (d *DB) ReadOnly(ctx context.Context, stmts []Statement) (bool, error) { return false, errTODO }

// CheckRequest rejects a request containing a disallowed PRAGMA
// (ErrDisallowedPragma) or an unsupported parameter (ErrUnsupportedType).
func CheckRequest(req *Request) error { return errTODO }

// Rewrite shows how a statement's RANDOM(), RANDOMBLOB(N) and 'now'
// calls become literals (for /db/sql).
func Rewrite(sql string, noRandom, noTime bool) (string, error) { return "", errTODO }

// Ping runs SELECT 1 on a read connection.
func (d *DB) Ping(ctx context.Context) error { return errTODO }

// CopyTo writes a consistent copy of the database to path without blocking
// the writer for the duration of the copy.
func (d *DB) CopyTo(ctx context.Context, path string) error { return errTODO }

// Restore replaces the database with the SQLite file at path (moved into
// place) and reopens every connection.
func (d *DB) Restore(path string) error { return errTODO }

// Checkpoint copies the WAL into the main file and truncates it.
func (d *DB) Checkpoint(ctx context.Context) error { return errTODO }

// WALSize is the size in bytes of the WAL file.
func (d *DB) WALSize() (int64, error) { return 0, errTODO }

// Stats is the "sqlite3" document of /status.
func (d *DB) Stats() (map[string]any, error) { return nil, errTODO }

// Dump writes the database as SQL text (for backups, a later issue).
func (d *DB) Dump(ctx context.Context, w io.Writer, tables []string) error { return errTODO }

var _ = time.Second

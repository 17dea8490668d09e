package db

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"

	"modernc.org/sqlite"
)

// Config says how to open a database.
type Config struct {
	// Path is the SQLite file.
	Path string
	// FKConstraints enables foreign keys on every connection (-fk).
	FKConstraints bool
	// MaxReadConns bounds the read-only pool (-db-max-ro-conns).
	MaxReadConns int
	// MaxResultBytes bounds the estimated in-memory size of one
	// statement's rows (-db-max-result-size); a larger result fails in its
	// slot with ErrResultTooLarge instead of exhausting memory. Zero means
	// no bound.
	MaxResultBytes int64
	// Changes, when set, receives the row changes of every applied
	// entry (change data capture, cdc.go). Nil costs nothing: no hook is
	// installed.
	Changes ChangeSink
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
//
// Concurrency: Apply and Checkpoint serialize on the write connection;
// Query, ReadOnly, CopyTo, Ping and Stats use the read pool and never wait
// for the writer. Restore and Close exclude everything else.
type DB struct {
	cfg Config

	// swap is held shared by every operation and exclusively by Restore
	// and Close, which replace or drop the connections.
	swap   sync.RWMutex
	closed bool
	// copies is held shared by CopyTo for the whole copy and exclusively
	// by Restore, before swap, so a restore waits for copies without
	// stalling queries (see CopyTo).
	copies sync.RWMutex

	// wmu serializes use of the write connection.
	wmu sync.Mutex

	wdrv   *sqlite.Driver // write driver: hook plus deterministic overrides
	rdrv   *sqlite.Driver // read driver: hook only, real built-ins
	states connStates
	fenv   *funcEnv
	helper *timeHelper

	rw    *sql.DB
	wconn *sql.Conn
	ro    *sql.DB

	// The write connection's state, under wmu: its prepared statements,
	// the rows_affected that statements which set none report (rqlite's
	// sticky counter, kept here because rdb's own position writes move
	// SQLite's), and whether the schema defers foreign keys
	// (fkDeferredUnknown until looked up).
	wstmts     stmtCache
	sticky     int64
	fkDeferred fkState

	// spec is the open speculative transaction (spectx.go), nil if none;
	// under wmu.
	spec *SpecTx

	// rcache serves reads of one statement without classifying or
	// preparing it again.
	rcache readCache

	// cdc captures row changes for Config.Changes; nil when off.
	cdc *capture
}

// Open opens (creating if needed) the database at cfg.Path in WAL mode. A
// MaxReadConns below 1 means the default.
func Open(cfg Config) (*DB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxReadConns < 1 {
		cfg.MaxReadConns = DefaultConfig().MaxReadConns
	}
	abs, err := filepath.Abs(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("db path %s: %w", cfg.Path, err)
	}
	cfg.Path = abs
	helper, err := newTimeHelper()
	if err != nil {
		return nil, err
	}
	d := &DB{cfg: cfg, wdrv: &sqlite.Driver{}, rdrv: &sqlite.Driver{}, helper: helper}
	d.fenv = newFuncEnv(helper)
	if err := registerOverrides(d.wdrv, d.fenv); err != nil {
		helper.close()
		return nil, err
	}
	whook := d.hook(d.writePragmas())
	if cfg.Changes != nil {
		d.cdc = &capture{sink: cfg.Changes}
		base := whook
		whook = func(c sqlite.ExecQuerierContext, dsn string) error {
			if err := base(c, dsn); err != nil {
				return err
			}
			return d.cdc.register(c)
		}
	}
	d.wdrv.RegisterConnectionHook(whook)
	d.rdrv.RegisterConnectionHook(d.hook(d.readPragmas()))
	if err := d.openConns(); err != nil {
		helper.close()
		return nil, err
	}
	return d, nil
}

// Path is the database file.
func (d *DB) Path() string { return d.cfg.Path }

// Close closes every connection. Later calls return ErrClosed.
func (d *DB) Close() error {
	d.swap.Lock()
	defer d.swap.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return errors.Join(d.closeConns(), d.helper.close())
}

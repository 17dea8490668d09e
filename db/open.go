package db

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"modernc.org/sqlite"
)

// Connection settings (API.md §1.7 reports them). The write connection's
// synchronous is NORMAL: in WAL mode a commit then costs no fsync and the
// file stays consistent through power loss (only the newest commits may be
// lost); the Raft log is the durable record and the store replays what the
// file lacks (see store/DESIGN.md).
const (
	busyTimeoutMS = 5000
	// Only the store checkpoints, when it snapshots: the WAL must hold
	// every frame since the previous snapshot (incremental snapshots copy
	// it), so the write connection never checkpoints on its own.
	writeAutoCkpt    = 0
	writeSynchronous = 1
	// The read-only connections use rqlite's values (synchronous OFF,
	// wal_autocheckpoint 1000), which /status reports as rqlite's does.
	// Neither can touch the WAL: a mode=ro connection cannot write, so it
	// never syncs, and SQLite runs an automatic checkpoint only from the
	// wal hook after a commit that wrote frames on that same connection
	// (sqlite3_wal_autocheckpoint: "after committing a transaction";
	// walFrames sets the hook's frame count only on a commit, and
	// doWalCallbacks calls the hook only when that count is non-zero).
	readAutoCkpt    = 1000
	readSynchronous = 0
)

// connector opens connections of a private driver, so that its functions
// and hooks apply to this database's connections only.
type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(ctx context.Context) (driver.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return c.drv.Open(c.dsn)
}

func (c connector) Driver() driver.Driver { return c.drv }

// fileURI is the SQLite URI of path (absolute) with the given query.
func fileURI(path, query string) string {
	return (&url.URL{Scheme: "file", Path: path, RawQuery: query}).String()
}

func (d *DB) commonPragmas() []string {
	fk := 0
	if d.cfg.FKConstraints {
		fk = 1
	}
	return []string{
		"PRAGMA busy_timeout=" + strconv.Itoa(busyTimeoutMS),
		"PRAGMA foreign_keys=" + strconv.Itoa(fk),
	}
}

func (d *DB) writePragmas() []string {
	return append(d.commonPragmas(),
		"PRAGMA synchronous="+strconv.Itoa(writeSynchronous),
		"PRAGMA journal_mode=WAL",
		"PRAGMA wal_autocheckpoint="+strconv.Itoa(writeAutoCkpt))
}

func (d *DB) readPragmas() []string {
	return append(d.commonPragmas(),
		"PRAGMA synchronous="+strconv.Itoa(readSynchronous),
		"PRAGMA wal_autocheckpoint="+strconv.Itoa(readAutoCkpt))
}

// hook sets a new physical connection up: its PRAGMAs, then the authorizer
// that classifies statements as reads or writes.
func (d *DB) hook(pragmas []string) sqlite.ConnectionHookFn {
	return func(c sqlite.ExecQuerierContext, _ string) error {
		for _, p := range pragmas {
			if _, err := c.ExecContext(context.Background(), p, nil); err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
		}
		ar, ok := c.(sqlite.AuthorizerRegisterer)
		if !ok {
			return fmt.Errorf("connection %T has no authorizer", c)
		}
		return ar.RegisterAuthorizer(d.states.add(c).authorize)
	}
}

// openConns opens the write connection (which creates the file and turns
// WAL on) and then the read-only pool.
func (d *DB) openConns() error {
	ctx := context.Background()
	d.rw = sql.OpenDB(connector{drv: d.wdrv, dsn: fileURI(d.cfg.Path, "")})
	d.rw.SetMaxOpenConns(1)
	d.rw.SetMaxIdleConns(1)
	conn, err := d.rw.Conn(ctx)
	if err != nil {
		d.rw.Close()
		return fmt.Errorf("open write connection %s: %w", d.cfg.Path, err)
	}
	d.wconn = conn
	// Every entry starts with changes() at 1 (after the previous entry's
	// position write), and with the last_insert_rowid() and rows_affected
	// the previous entry left; so does the first one after opening.
	saved, err := d.savedConnState(ctx)
	if err != nil {
		return errors.Join(err, d.closeConns())
	}
	if err := d.setConnState(ctx, saved); err != nil {
		return errors.Join(err, d.closeConns())
	}
	d.ro = sql.OpenDB(connector{drv: d.rdrv, dsn: fileURI(d.cfg.Path, "mode=ro")})
	d.ro.SetMaxOpenConns(d.cfg.MaxReadConns)
	d.ro.SetMaxIdleConns(d.cfg.MaxReadConns)
	if err := d.ro.PingContext(ctx); err != nil {
		return errors.Join(fmt.Errorf("open read connection %s: %w", d.cfg.Path, err), d.closeConns())
	}
	return nil
}

// closeConns closes the read pool, then the write connection: the last
// connection to close checkpoints the WAL and removes it.
func (d *DB) closeConns() error {
	d.preemptSpec()
	var errs []error
	if d.ro != nil {
		errs = append(errs, d.ro.Close())
	}
	d.wstmts.clear()
	d.rcache.clear()
	d.fkDeferred = fkDeferredUnknown
	if d.wconn != nil {
		errs = append(errs, d.wconn.Close())
	}
	if d.rw != nil {
		errs = append(errs, d.rw.Close())
	}
	d.ro, d.wconn, d.rw = nil, nil, nil
	d.states.clear()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close %s: %w", d.cfg.Path, err)
	}
	return nil
}

// begin takes the shared lock every operation holds; the caller must call
// d.swap.RUnlock when err is nil.
func (d *DB) begin() error {
	d.swap.RLock()
	if d.closed {
		d.swap.RUnlock()
		return ErrClosed
	}
	return nil
}

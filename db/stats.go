package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// reportedPragmas are the settings /status shows per connection kind.
var reportedPragmas = []string{"busy_timeout", "foreign_keys", "journal_mode", "synchronous", "wal_autocheckpoint"}

// Ping runs SELECT 1 on a read connection.
func (d *DB) Ping(ctx context.Context) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.swap.RUnlock()
	var one int
	if err := d.ro.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping %s: %w", d.cfg.Path, err)
	}
	return nil
}

// Stats is the "sqlite3" document of /status: path, version, size (file
// bytes), db_size (page_count*page_size), wal_size, and the PRAGMAs of
// each connection kind, all values strings ("busy_timeout":"5000").
func (d *DB) Stats() (map[string]any, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	ctx := context.Background()
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("stats: read connection: %w", err)
	}
	defer conn.Close()
	ro, err := pragmaValues(ctx, conn)
	if err != nil {
		return nil, err
	}
	d.wmu.Lock()
	rw, err := pragmaValues(ctx, d.wconn)
	d.wmu.Unlock()
	if err != nil {
		return nil, err
	}
	st := map[string]any{
		"path":           d.cfg.Path,
		"fk_constraints": enabled(d.cfg.FKConstraints),
		"pragmas":        map[string]any{"ro": ro, "rw": rw},
		"ro_dsn":         fileURI(d.cfg.Path, "mode=ro"),
		"rw_dsn":         fileURI(d.cfg.Path, ""),
	}
	return st, d.fileStats(ctx, conn, st)
}

// fileStats adds version, size, db_size and wal_size to st.
func (d *DB) fileStats(ctx context.Context, conn *sql.Conn, st map[string]any) error {
	var version string
	var pages, pageSize int64
	if err := conn.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version); err != nil {
		return fmt.Errorf("stats: version: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return fmt.Errorf("stats: page_count: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return fmt.Errorf("stats: page_size: %w", err)
	}
	var size int64
	fi, err := os.Stat(d.cfg.Path)
	switch {
	case err == nil:
		size = fi.Size()
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("stats: %w", err)
	}
	wal, err := d.WALSize()
	if err != nil {
		return err
	}
	st["version"], st["size"], st["db_size"], st["wal_size"] = version, size, pages*pageSize, wal
	return nil
}

// pragmaValues reads reportedPragmas on conn, each rendered as a string.
func pragmaValues(ctx context.Context, conn *sql.Conn) (map[string]any, error) {
	out := make(map[string]any, len(reportedPragmas))
	for _, p := range reportedPragmas {
		var v any
		if err := conn.QueryRowContext(ctx, "PRAGMA "+p).Scan(&v); err != nil {
			return nil, fmt.Errorf("stats: pragma %s: %w", p, err)
		}
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		out[p] = fmt.Sprint(v)
	}
	return out, nil
}

func enabled(b bool) string {
	if b {
		return "enabled"
	}
	return "disabled"
}

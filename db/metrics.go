package db

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// PoolStats is the read-only connection pool as metrics see it.
type PoolStats struct {
	Open  int // connections open, idle or in use
	InUse int // connections serving a read now
}

// ReadPool reports the read-only pool's connections. It takes no
// connection and runs no SQL, so a metrics scrape costs the database
// nothing.
func (d *DB) ReadPool() (PoolStats, error) {
	if err := d.begin(); err != nil {
		return PoolStats{}, err
	}
	defer d.swap.RUnlock()
	st := d.ro.Stats()
	return PoolStats{Open: st.OpenConnections, InUse: st.InUse}, nil
}

// FileSize is the size in bytes of the database file (0 when there is
// none yet); WALSize is its write-ahead log's.
func (d *DB) FileSize() (int64, error) {
	fi, err := os.Stat(d.cfg.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("database file size: %w", err)
	}
	return fi.Size(), nil
}

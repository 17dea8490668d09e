package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"modernc.org/sqlite"
)

// openFile opens a private single connection to the SQLite file at path,
// outside any DB (uploads, backups, snapshot copies).
func openFile(ctx context.Context, path, query string) (*sql.DB, *sql.Conn, error) {
	pool := sql.OpenDB(connector{drv: &sqlite.Driver{}, dsn: fileURI(path, query)})
	pool.SetMaxOpenConns(1)
	conn, err := pool.Conn(ctx)
	if err != nil {
		pool.Close()
		return nil, nil, fmt.Errorf("open %s: %w", path, err)
	}
	return pool, conn, nil
}

// CheckFile verifies that path is a complete, uncorrupted SQLite database:
// the header, then PRAGMA integrity_check. It fails with ErrNotSQLite or
// ErrCorrupt and never changes the file.
func CheckFile(ctx context.Context, path string) error {
	if err := checkHeader(path); err != nil {
		return err
	}
	pool, conn, err := openFile(ctx, path, "mode=ro")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer pool.Close()
	defer conn.Close()
	rows, err := conn.QueryContext(ctx, "PRAGMA integrity_check")
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	defer rows.Close()
	var msgs []string
	for rows.Next() && len(msgs) < 10 {
		var m string
		if err := rows.Scan(&m); err != nil {
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(msgs) != 1 || msgs[0] != "ok" {
		return fmt.Errorf("%w: %s", ErrCorrupt, strings.Join(msgs, "; "))
	}
	return nil
}

// StampFile records at as the applied position of the SQLite file at path
// (a database about to replace the live one), so that the file and its
// position are swapped in together.
func StampFile(ctx context.Context, path string, at Applied) error {
	pool, conn, err := openFile(ctx, path, "")
	if err != nil {
		return err
	}
	defer pool.Close()
	defer conn.Close()
	for _, q := range []string{appliedCreate, appliedUpsert} {
		var args []any
		if q == appliedUpsert {
			args = []any{int64(at.Index), int64(at.Term), 0}
		}
		if _, err := conn.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("stamp %s with index %d: %w", path, at.Index, err)
		}
	}
	return nil
}

// PrepareBackup turns a copy made by CopyTo into a backup file: the
// store's bookkeeping table is dropped and the file is switched to WAL
// (wal) or rollback-journal (DELETE) mode, which is recorded in its
// header.
func PrepareBackup(ctx context.Context, path string, wal bool) error {
	pool, conn, err := openFile(ctx, path, "")
	if err != nil {
		return err
	}
	mode := "DELETE"
	if wal {
		mode = "WAL"
	}
	_, err = conn.ExecContext(ctx, `DROP TABLE IF EXISTS "`+AppliedTable+`"`)
	if err == nil {
		_, err = conn.ExecContext(ctx, "PRAGMA journal_mode="+mode)
	}
	// Closing the last connection checkpoints and removes the WAL.
	err = errors.Join(err, conn.Close(), pool.Close())
	if err != nil {
		return fmt.Errorf("prepare backup %s: %w", path, err)
	}
	return nil
}

// CopyWAL copies the database's WAL file (every change since the last
// checkpoint) to dst; an absent WAL gives an empty file. Writes wait for
// the copy, so it is one consistent state.
func (d *DB) CopyWAL(dst string) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.preemptSpec()
	src := d.cfg.Path + "-wal"
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return os.WriteFile(dst, nil, 0o644)
	}
	if err := copyFile(src, dst+".tmp"); err != nil {
		return fmt.Errorf("copy WAL: %w", err)
	}
	if err := os.Rename(dst+".tmp", dst); err != nil {
		return fmt.Errorf("copy WAL: %w", err)
	}
	return syncParent(dst)
}

// ApplyWAL checkpoints the WAL file walPath into the SQLite database file
// dbPath, in place: by foldWAL, or by SQLite's checkpoint for a file
// foldWAL leaves to it. A crash part-way leaves the file half written (or
// dbPath-wal beside it, which SQLite recovers at the next open); applying
// the same WAL again is harmless (its frames are page images, written in
// order).
func ApplyWAL(ctx context.Context, dbPath, walPath string) error {
	if err := foldWAL(dbPath, walPath); !errors.Is(err, errWALUnusual) {
		if err != nil {
			return fmt.Errorf("apply WAL %s to %s: %w", walPath, dbPath, err)
		}
		return nil
	}
	return applyWALSQLite(ctx, dbPath, walPath)
}

// applyWALSQLite is ApplyWAL by SQLite's own checkpoint: the WAL is copied
// beside the database, which is opened and checkpointed.
func applyWALSQLite(ctx context.Context, dbPath, walPath string) error {
	wal := dbPath + "-wal"
	if err := copyFile(walPath, wal); err != nil {
		return fmt.Errorf("apply WAL: %w", err)
	}
	pool, conn, err := openFile(ctx, dbPath, "")
	if err != nil {
		return err
	}
	var busy, frames, done int64
	err = conn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &done)
	if err == nil && busy != 0 {
		err = ErrCheckpointBusy
	}
	if err = errors.Join(err, conn.Close(), pool.Close()); err != nil {
		return fmt.Errorf("apply WAL %s to %s: %w", walPath, dbPath, err)
	}
	for _, p := range []string{wal, dbPath + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("apply WAL: %w", err)
		}
	}
	return nil
}

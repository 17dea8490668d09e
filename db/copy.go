package db

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// CopyTo writes a consistent copy of the database to path without blocking
// the writer for the duration of the copy: VACUUM INTO on a read
// connection reads one WAL snapshot. An existing file at path is replaced.
// The copy is compact and in rollback-journal (DELETE) mode.
//
// The copy holds copies shared as well as swap. Restore takes copies
// exclusively before it asks for swap, so it waits for running copies
// without queueing on swap, where a waiting writer would hold up every
// new query for the rest of the copy; reads and writes go on until the
// copies are done and Restore holds swap for the swap alone. A copy still
// never overlaps a swap: Restore gets swap only once no copy holds copies,
// and a copy started meanwhile waits for copies until the swap is done
// (both take copies before swap, so neither order can deadlock).
func (d *DB) CopyTo(ctx context.Context, path string) error {
	d.copies.RLock()
	defer d.copies.RUnlock()
	if err := d.begin(); err != nil {
		return err
	}
	defer d.swap.RUnlock()
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("copy database to %s: %w", path, err)
	}
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return fmt.Errorf("read connection: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		return fmt.Errorf("copy database to %s: %w", path, wrapText(ctx, err, "timeout"))
	}
	return nil
}

// Restore replaces the database with the SQLite file at path (moved into
// place) and reopens every connection. New reads and writes wait until it
// is done. If reopening fails the DB is left closed.
func (d *DB) Restore(path string) error {
	if err := checkHeader(path); err != nil {
		return err
	}
	d.copies.Lock() // before swap: see CopyTo
	defer d.copies.Unlock()
	d.swap.Lock()
	defer d.swap.Unlock()
	if d.closed {
		return ErrClosed
	}
	if err := d.closeConns(); err != nil {
		d.closed = true
		return fmt.Errorf("restore: %w", err)
	}
	if err := d.replaceFile(path); err != nil {
		d.closed = true
		return err
	}
	if err := d.openConns(); err != nil {
		d.closed = true
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// checkHeader refuses a file that is not a SQLite database.
func checkHeader(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("restore from %s: %w", path, err)
	}
	defer f.Close()
	b := make([]byte, len(sqliteHeader))
	if _, err := io.ReadFull(f, b); err != nil || !bytes.Equal(b, sqliteHeader) {
		return fmt.Errorf("restore from %s: %w", path, ErrNotSQLite)
	}
	return nil
}

// replaceFile drops the old database's WAL and shared-memory files and
// moves path into place (copying if a rename is impossible).
func (d *DB) replaceFile(path string) error {
	for _, suffix := range []string{"-wal", "-shm", "-journal"} {
		if err := os.Remove(d.cfg.Path + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("restore: remove %s: %w", d.cfg.Path+suffix, err)
		}
	}
	if err := os.Rename(path, d.cfg.Path); err == nil {
		return syncParent(d.cfg.Path)
	}
	if err := copyFile(path, d.cfg.Path); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return os.Remove(path)
}

// copyFile writes src to a temporary file beside dst and renames it over
// dst, so dst is never half written.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	tmp := dst + ".restore"
	out, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", tmp, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, tmp, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return fmt.Errorf("copy to %s: %w", tmp, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copy to %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	return syncParent(dst)
}

// syncParent makes a rename into path's directory durable: until the
// directory is synced, a power loss can undo the rename while later
// writes that depend on it survive. A variable so tests can record the
// order of operations.
var syncParent = func(path string) error {
	dir := filepath.Dir(path)
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// Checkpoint copies the WAL into the main file and truncates it. It fails
// with ErrCheckpointBusy when readers kept it from completing within the
// busy timeout.
func (d *DB) Checkpoint(ctx context.Context) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.preemptSpec()
	var busy, logFrames, done int64
	row := d.wconn.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
	if err := row.Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("checkpoint %s: %w", d.cfg.Path, wrapText(ctx, err, "timeout"))
	}
	if busy != 0 {
		return fmt.Errorf("checkpoint %s: %w", d.cfg.Path, ErrCheckpointBusy)
	}
	return nil
}

// WALSize is the size in bytes of the WAL file (0 when there is none).
func (d *DB) WALSize() (int64, error) {
	fi, err := os.Stat(d.cfg.Path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("wal size: %w", err)
	}
	return fi.Size(), nil
}

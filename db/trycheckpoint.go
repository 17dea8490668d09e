package db

import (
	"context"
	"fmt"
	"strconv"
)

// TryCheckpoint is Checkpoint without waiting for readers: it copies what
// it can and, if a reader still needs part of the WAL (a long query, a
// checksum's pinned read), fails at once with ErrCheckpointBusy instead of
// holding the write connection for the busy timeout. For checkpoints that
// may be skipped (the WAL then keeps its frames until a later one).
func (d *DB) TryCheckpoint(ctx context.Context) error {
	if err := d.begin(); err != nil {
		return err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if _, err := d.wconn.ExecContext(ctx, "PRAGMA busy_timeout=0"); err != nil {
		return fmt.Errorf("checkpoint %s: %w", d.cfg.Path, err)
	}
	defer d.wconn.ExecContext(context.Background(), "PRAGMA busy_timeout="+strconv.Itoa(busyTimeoutMS))
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

package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
)

// ErrReadTxEnded is returned by a ReadTx used after it ended (by its
// owner, or because the database was closed or replaced).
var ErrReadTxEnded = errors.New("read-only transaction already ended")

// ReadTx is a read-only transaction on a connection of the read pool: its
// statements see one snapshot of the database (SQLite's WAL snapshot,
// taken at the first read), and it neither waits for the writer nor makes
// it wait. Writes fail in their slot with ErrQueryWrite's text. Its
// methods are safe for concurrent use.
type ReadTx struct {
	d    *DB
	mu   sync.Mutex
	conn *sql.Conn // nil once ended
}

// readTxs tracks the open ReadTx so that Close and Restore end them
// before the read pool goes.
type readTxs struct {
	mu sync.Mutex
	m  map[*ReadTx]struct{}
}

// BeginRead opens a read-only transaction (BEGIN DEFERRED on a pooled
// read connection).
func (d *DB) BeginRead(ctx context.Context) (*ReadTx, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	conn, err := d.ro.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("read connection: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		conn.Close()
		return nil, fmt.Errorf("begin read transaction: %w", err)
	}
	t := &ReadTx{d: d, conn: conn}
	d.rtxs.mu.Lock()
	if d.rtxs.m == nil {
		d.rtxs.m = map[*ReadTx]struct{}{}
	}
	d.rtxs.m[t] = struct{}{}
	d.rtxs.mu.Unlock()
	return t, nil
}

// Run runs req's statements as reads inside the transaction. Statements
// that would end it (COMMIT, ROLLBACK, BEGIN…) are refused with
// ErrSpecStatement; ErrReadTxEnded once it is over.
func (t *ReadTx) Run(ctx context.Context, req *Request) ([]Result, error) {
	if err := t.d.begin(); err != nil {
		return nil, err
	}
	defer t.d.swap.RUnlock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		return nil, ErrReadTxEnded
	}
	if err := checkSpecStatements(req); err != nil {
		return nil, err
	}
	r := &runner{conn: t.conn, states: &t.d.states, req: req, maxBytes: t.d.cfg.MaxResultBytes}
	return r.run(ctx, ModeQuery), nil
}

// End rolls the transaction back and returns its connection to the pool;
// ending it again does nothing.
func (t *ReadTx) End() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.endLocked()
	t.d.rtxs.mu.Lock()
	delete(t.d.rtxs.m, t)
	t.d.rtxs.mu.Unlock()
}

func (t *ReadTx) endLocked() {
	if t.conn == nil {
		return
	}
	_, _ = t.conn.ExecContext(context.Background(), "ROLLBACK")
	t.conn.Close()
	t.conn = nil
}

// endReadTxs ends every open ReadTx (the read pool is about to close).
func (d *DB) endReadTxs() {
	d.rtxs.mu.Lock()
	open := make([]*ReadTx, 0, len(d.rtxs.m))
	for t := range d.rtxs.m {
		open = append(open, t)
	}
	d.rtxs.m = nil
	d.rtxs.mu.Unlock()
	for _, t := range open {
		t.mu.Lock()
		t.endLocked()
		t.mu.Unlock()
	}
}

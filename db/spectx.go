package db

import (
	"context"
	"errors"
	"fmt"
)

// Interactive transactions (store/DESIGN.md, "Interactive transactions").
//
// A SpecTx is a transaction run speculatively on the write connection at
// the leader: its statements see their own writes, and the leader's
// deterministic functions (RANDOM(), 'now') draw from the Env fixed at
// BeginSpec. Nothing of it is ever committed: when the client commits,
// the store logs the statements with that Env as one entry and every node
// (this one included, after the speculative run is rolled back) applies
// them with ApplyTx, which reproduces exactly what the client saw.
//
// Any other use of the write connection (an entry being applied, a
// checkpoint, a WAL copy, a restore, Close) first rolls the speculative
// transaction back ("preempts" it): SpecTx.Err then says why, and the
// onAbort callback given to BeginSpec is called (under the write lock:
// it must not call back into DB).

var (
	// ErrSpecBusy refuses BeginSpec while another speculative transaction
	// is open.
	ErrSpecBusy = errors.New("another interactive transaction is open")
	// ErrSpecPreempted means the write connection was needed for
	// something else (an entry applied, a snapshot, a restore).
	ErrSpecPreempted = errors.New("transaction aborted: the database had to apply other changes")
	// ErrSpecLost means SQLite rolled the whole transaction back (ON
	// CONFLICT ROLLBACK, RAISE(ROLLBACK), an interrupt).
	ErrSpecLost = errors.New("transaction rolled back by SQLite after a statement failed")
	// ErrSpecEnded is the Err of a transaction that was committed or
	// rolled back by its owner.
	ErrSpecEnded = errors.New("transaction already ended")
	// ErrSpecStatement refuses, without running anything, a statement
	// that would end or escape the transaction (BEGIN, COMMIT, END,
	// ROLLBACK other than ROLLBACK TO, VACUUM, ATTACH, DETACH): those are
	// the owner's calls (Rollback, or the store's commit), never SQL run
	// on the write connection. The transaction stays open.
	ErrSpecStatement = errors.New("statement not allowed inside an interactive transaction")
)

// specForbidden are the leading keywords ErrSpecStatement refuses.
var specForbidden = map[string]bool{"BEGIN": true, "COMMIT": true, "END": true,
	"VACUUM": true, "ATTACH": true, "DETACH": true}

// checkSpecStatements reports the first statement of req (any piece of a
// multi-statement text) that ErrSpecStatement refuses.
func checkSpecStatements(req *Request) error {
	for _, st := range req.Statements {
		for _, piece := range splitStatements(st.SQL) {
			w := LeadingWords(piece, 4)
			if len(w) == 0 {
				continue
			}
			bad := specForbidden[w[0]]
			if w[0] == "ROLLBACK" {
				bad = !(len(w) > 1 && w[1] == "TO" || len(w) > 2 && w[2] == "TO")
			}
			if bad {
				return fmt.Errorf("%w: %s", ErrSpecStatement, w[0])
			}
		}
	}
	return nil
}

// SpecTx is a speculative transaction on the write connection; see
// BeginSpec. Its methods are safe for concurrent use.
type SpecTx struct {
	d       *DB
	start   connState // the connection state at BEGIN, put back at the end
	err     error     // under d.wmu: why it ended, nil while open
	onAbort func(error)
}

// BeginSpec opens a speculative transaction (BEGIN IMMEDIATE) on the
// write connection, with RANDOM() and 'now' fixed by env for all its
// statements. onAbort (may be nil) is called, with the write lock held,
// when something else preempts it.
func (d *DB) BeginSpec(ctx context.Context, env Env, onAbort func(error)) (*SpecTx, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.spec != nil {
		return nil, ErrSpecBusy
	}
	start, err := d.connState(ctx)
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	if err := d.execCached(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	d.fenv.reset(env, &Request{})
	t := &SpecTx{d: d, start: start, onAbort: onAbort}
	d.spec = t
	return t, nil
}

// Run runs req's statements inside the transaction (db.ModeRequest: reads
// return rows, writes counters). An error means the transaction is over
// (ErrSpecLost, ErrSpecPreempted, ErrSpecEnded, ErrClosed); statement
// failures are in the Results and leave it open.
func (t *SpecTx) Run(ctx context.Context, req *Request) ([]Result, error) {
	d := t.d
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.spec != t {
		return nil, t.err
	}
	if err := checkSpecStatements(req); err != nil {
		return nil, err
	}
	r := d.writeRunner(req, true)
	res := r.run(ctx, ModeRequest)
	if r.lost {
		d.endSpecLocked(ErrSpecLost) // reopen began a transaction: roll it back
		return res, ErrSpecLost
	}
	return res, nil
}

// Rollback ends the transaction, undoing everything it did; a
// transaction already ended is left alone.
func (t *SpecTx) Rollback() {
	d := t.d
	if err := d.begin(); err != nil {
		return
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.spec == t {
		d.endSpecLocked(ErrSpecEnded)
	}
}

// Err is nil while the transaction is open, else why it ended.
func (t *SpecTx) Err() error {
	t.d.wmu.Lock()
	defer t.d.wmu.Unlock()
	if t.d.spec == t {
		return nil
	}
	return t.err
}

// endSpecLocked rolls the open speculative transaction back and puts the
// connection state (last_insert_rowid(), rows_affected) back as it was at
// BEGIN, so the next entry runs exactly as on every other node. With
// d.wmu held (or d.swap held exclusively).
func (d *DB) endSpecLocked(why error) {
	t := d.spec
	if t == nil {
		return
	}
	d.spec = nil
	t.err = why
	d.rollbackWrite()
	if d.wconn != nil {
		if err := d.setConnState(context.Background(), t.start); err != nil {
			// The next entry may see another last_insert_rowid() here
			// than elsewhere; say so loudly rather than hide it.
			t.err = errors.Join(why, err)
		}
	}
	if why != ErrSpecEnded && t.onAbort != nil {
		t.onAbort(why)
	}
}

// preemptSpec rolls back a speculative transaction before the write
// connection is used for anything else; one nil check when none is open.
func (d *DB) preemptSpec() {
	if d.spec != nil {
		d.endSpecLocked(ErrSpecPreempted)
	}
}

// ApplyTx applies a committed interactive transaction: reqs, in the order
// the client ran them, with the deterministic Env of its BeginSpec, in
// one SQLite transaction that also records at. A speculative run still
// open here (the leader's own) is rolled back first. txErr is a failure
// every node meets alike (the COMMIT failed, e.g. a deferred foreign key,
// or SQLite rolled the transaction back): then nothing of it is applied
// and only the position is recorded. err is a failure of the database
// itself, after which the caller must stop (as for ApplyBatch).
func (d *DB) ApplyTx(ctx context.Context, reqs []*Request, env Env, at Applied) (results [][]Result, txErr error, err error) {
	if err := d.begin(); err != nil {
		return nil, nil, err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	if d.spec != nil {
		d.endSpecLocked(ErrSpecEnded) // this transaction's own speculative run
	}
	for _, req := range reqs {
		if err := checkSpecStatements(req); err != nil {
			// The leader never logs these (SpecTx.Run refuses them); an
			// entry that holds one is refused on every node alike.
			if _, err := d.wconn.ExecContext(ctx, "BEGIN"); err != nil {
				return nil, nil, fmt.Errorf("apply entry %d: begin: %w", at.Index, err)
			}
			if cerr := d.commitApplied(ctx, at); cerr != nil {
				return nil, nil, cerr
			}
			return nil, err, nil
		}
	}
	if err := d.execCached(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, nil, fmt.Errorf("apply entry %d: begin: %w", at.Index, err)
	}
	d.fenv.reset(env, &Request{})
	results = make([][]Result, 0, len(reqs))
	for _, req := range reqs {
		r := d.writeRunner(req, true)
		results = append(results, r.run(ctx, ModeRequest))
		if r.lost {
			txErr = ErrSpecLost
			break
		}
	}
	if txErr == nil {
		// Change capture: the transaction's row changes are this entry's.
		items := make([]Item, len(reqs))
		for i, req := range reqs {
			items[i] = Item{Req: req, Mode: ModeRequest, Env: env}
		}
		d.cdc.endEntry(ctx, d, Entry{Items: items, At: at})
		if err := d.writeApplied(ctx, at); err != nil {
			d.rollbackWrite()
			return nil, nil, err
		}
		d.cdc.flush()
		cerr := d.execCached(ctx, "COMMIT")
		if cerr == nil {
			return results, nil, nil
		}
		txErr = fmt.Errorf("commit: %s", errorText(cerr, executeTimeoutText))
	}
	// Nothing of the transaction stays; the entry still counts as applied.
	d.rollbackWrite()
	if _, err := d.wconn.ExecContext(ctx, "BEGIN"); err != nil {
		return nil, nil, fmt.Errorf("apply entry %d: begin: %w", at.Index, err)
	}
	if err := d.commitApplied(ctx, at); err != nil {
		return nil, nil, err
	}
	return nil, txErr, nil
}

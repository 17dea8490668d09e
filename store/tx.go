package store

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// Defaults for Config.TxBusyTimeout and Config.TxIdleTimeout.
const (
	DefaultTxBusyTimeout = 5 * time.Second
	DefaultTxIdleTimeout = 10 * time.Second
)

// txCommand is a committed interactive transaction: its requests in the
// order the client ran them, the seed its RANDOM() drew from, and the
// applied index it started from (the command's Time is its 'now').
type txCommand struct {
	Base     uint64           `codec:"b"`
	Seed     uint64           `codec:"s"`
	Requests []commandRequest `codec:"r,omitempty"`
}

// txResult is the FSM's answer for a cmdTx entry: the results of every
// request, or Err when every node refused the transaction alike.
type txResult struct {
	Results [][]db.Result
	Err     error
}

// txDatabase is what interactive transactions need from the database
// (*db.DB); test fakes lack it and get ErrTxUnsupported.
type txDatabase interface {
	BeginSpec(ctx context.Context, env db.Env, onAbort func(error)) (*db.SpecTx, error)
	ApplyTx(ctx context.Context, reqs []*db.Request, env db.Env, at db.Applied) ([][]db.Result, error, error)
}

// applyTx applies a cmdTx entry (FSM goroutine). The transaction only
// reproduces what its client saw if nothing else was applied since it
// began: the entry's Base must be the last applied index. Otherwise every
// node refuses it alike (ErrTxConflict) and only records the position.
func (p *processor) applyTx(l *raft.Log, now int64, tc *txCommand) any {
	tdb, ok := p.db.(txDatabase)
	st, _ := p.applied()
	at := db.Applied{Index: l.Index, Term: l.Term}
	if !ok || tc.Base != st.Index {
		if err := p.db.SetApplied(context.Background(), at); err != nil {
			p.fail(fmt.Errorf("store: apply log entry %d: %w", l.Index, err))
			return nil
		}
		p.advance(l.Index, l.Term, l.AppendedAt, true)
		if !ok {
			return txResult{Err: ErrTxUnsupported}
		}
		return txResult{Err: ErrTxConflict}
	}
	reqs := make([]*db.Request, len(tc.Requests))
	for i := range tc.Requests {
		reqs[i] = tc.Requests[i].dbRequest()
	}
	res, txErr, err := tdb.ApplyTx(context.Background(), reqs, db.Env{Seed: tc.Seed, Now: time.Unix(0, now)}, at)
	if err != nil {
		p.fail(fmt.Errorf("store: apply log entry %d: %w", l.Index, err))
		return nil
	}
	p.advance(l.Index, l.Term, l.AppendedAt, true)
	return txResult{Results: res, Err: txErr}
}

// Abort causes counted in TxStats.
const (
	abortIdle       = "idle"
	abortLeadership = "leadership"
	abortPreempted  = "preempted"
	abortSQLite     = "sqlite_rollback"
	abortClosed     = "shutdown"
	abortConflict   = "conflict"
	abortCommit     = "commit_failed"
)

// txState is the store's record of interactive transactions.
type txState struct {
	mu      sync.Mutex
	current *Tx
	begun   atomic.Uint64
	commits atomic.Uint64
	rolled  atomic.Uint64
	aborts  sync.Map // cause -> *atomic.Uint64
	busy    atomic.Uint64
}

func (ts *txState) abort(cause string) {
	v, _ := ts.aborts.LoadOrStore(cause, new(atomic.Uint64))
	v.(*atomic.Uint64).Add(1)
}

// TxStats is the "transactions" part of /status: counts since start, and
// the open transaction's age.
func (s *Store) TxStats() map[string]any {
	c := s.TxCounts()
	m := map[string]any{
		"begun": c.Begun, "committed": c.Committed, "rolled_back": c.RolledBack,
		"aborted": c.Aborted, "busy": c.Busy, "open": c.Open,
	}
	if c.Open > 0 {
		m["open_age_seconds"] = c.OpenAge.Seconds()
	}
	return m
}

// TxCounts is the interactive transactions' counters and open state.
type TxCounts struct {
	Open                               uint64 // 0 or 1
	OpenAge                            time.Duration
	Begun, Committed, RolledBack, Busy uint64
	Aborted                            map[string]uint64 // by cause
}

// TxCounts returns the counters TxStats reports, typed (for metrics).
func (s *Store) TxCounts() TxCounts {
	ts := &s.txs
	c := TxCounts{
		Begun: ts.begun.Load(), Committed: ts.commits.Load(), RolledBack: ts.rolled.Load(),
		Busy: ts.busy.Load(), Aborted: map[string]uint64{},
	}
	ts.aborts.Range(func(k, v any) bool {
		c.Aborted[k.(string)] = v.(*atomic.Uint64).Load()
		return true
	})
	ts.mu.Lock()
	if t := ts.current; t != nil {
		c.Open = 1
		c.OpenAge = time.Since(t.started)
	}
	ts.mu.Unlock()
	return c
}

// Tx is an interactive transaction, open at the leader from Begin to
// Commit or Rollback (or an abort). Its statements run speculatively on
// the leader's database; Commit logs them as one entry. A Tx is used by
// one client at a time, but Rollback and aborts may come from anywhere.
type Tx struct {
	s       *Store
	spec    *db.SpecTx
	base    uint64
	seed    uint64
	now     time.Time
	term    uint64
	started time.Time

	mu         sync.Mutex
	reqs       []commandRequest
	err        error // why it ended, nil while open
	idle       *time.Timer
	lastActive time.Time // end of the last statement
}

// idleFired rolls the transaction back if no statement ran for the idle
// timeout (a statement that ran while the timer fired re-arms it).
func (t *Tx) idleFired() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return
	}
	timeout := t.s.txIdleTimeout()
	if idle := time.Since(t.lastActive); idle < timeout {
		t.idle.Reset(timeout - idle)
		return
	}
	t.endLocked(ErrTxIdle, abortIdle)
}

// Begin opens an interactive transaction at the leader: it takes the
// write slot (waiting at most the busy timeout for another transaction,
// else ErrBusy), waits until every entry logged before it is applied, and
// begins a speculative transaction whose RANDOM() and 'now' are fixed
// now. ErrNotLeader if this node does not lead.
func (s *Store) Begin(ctx context.Context) (*Tx, error) {
	if !s.open.Load() {
		return nil, ErrNotOpen
	}
	if s.raft.State() != raft.Leader {
		return nil, ErrNotLeader
	}
	tdb, ok := s.db.(txDatabase)
	if !ok {
		return nil, ErrTxUnsupported
	}
	if err := s.slot.acquire(ctx, s.txBusyTimeout(), s.done); err != nil {
		if errors.Is(err, ErrBusy) {
			s.txs.busy.Add(1)
		}
		return nil, err
	}
	t, err := s.beginHeld(ctx, tdb)
	if err != nil {
		s.slot.release()
		return nil, err
	}
	return t, nil
}

func (s *Store) beginHeld(ctx context.Context, tdb txDatabase) (*Tx, error) {
	term := s.currentTerm()
	if err := waitFuture(ctx, s.raft.Barrier(s.cfg.ApplyTimeout), s.cfg.ApplyTimeout); err != nil {
		if errors.Is(err, ErrLeadershipLost) {
			err = ErrNotLeader // a barrier changes nothing: safe to forward
		}
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	if s.raft.State() != raft.Leader || s.currentTerm() != term {
		return nil, ErrNotLeader
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("begin transaction: seed: %w", err)
	}
	t := &Tx{s: s, seed: binary.LittleEndian.Uint64(b[:]), now: time.Now(), term: term, started: time.Now()}
	// No FSM call may run between reading the applied index and BEGIN,
	// so Base is exactly the state the transaction starts from.
	s.proc.fsmMu.Lock()
	st, _ := s.proc.applied()
	t.base = st.Index
	spec, err := tdb.BeginSpec(ctx, db.Env{Seed: t.seed, Now: t.now}, func(error) {
		go t.end(ErrTxAborted, abortPreempted) // under the db's write lock: do not wait here
	})
	s.proc.fsmMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("begin transaction: %w", err)
	}
	t.spec = spec
	t.lastActive = time.Now()
	t.idle = time.AfterFunc(s.txIdleTimeout(), t.idleFired)
	s.txs.mu.Lock()
	s.txs.current = t
	s.txs.mu.Unlock()
	s.txs.begun.Add(1)
	return t, nil
}

func (s *Store) currentTerm() uint64 { return s.raft.CurrentTerm() }

func (s *Store) txBusyTimeout() time.Duration {
	if s.cfg.TxBusyTimeout > 0 {
		return s.cfg.TxBusyTimeout
	}
	return DefaultTxBusyTimeout
}

func (s *Store) txIdleTimeout() time.Duration {
	if s.cfg.TxIdleTimeout > 0 {
		return s.cfg.TxIdleTimeout
	}
	return DefaultTxIdleTimeout
}

// Err is nil while the transaction is open, else why it ended.
func (t *Tx) Err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// Started is when Begin opened the transaction.
func (t *Tx) Started() time.Time { return t.started }

// Run runs req inside the transaction and returns one Result per
// statement (reads give rows, writes counters; statement errors are in
// the Results and leave the transaction open). An error means the
// request was refused as a whole (db.CheckRequest) or the transaction is
// over (ErrTxAborted, ErrTxIdle, a db.ErrSpec… error).
func (t *Tx) Run(ctx context.Context, req *db.Request) ([]db.Result, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	if t.s.raft.State() != raft.Leader || t.s.currentTerm() != t.term {
		t.endLocked(fmt.Errorf("%w: leadership lost", ErrTxAborted), abortLeadership)
		return nil, t.err
	}
	if err := t.s.db.CheckRequest(req); err != nil {
		return nil, err
	}
	cr, err := newCommandRequest(req, db.ModeRequest)
	if err != nil {
		return nil, err
	}
	t.lastActive = time.Now()
	res, err := t.spec.Run(ctx, req)
	if errors.Is(err, db.ErrSpecStatement) {
		return nil, err // refused; the transaction goes on
	}
	if err != nil {
		cause := abortPreempted
		if errors.Is(err, db.ErrSpecLost) {
			cause = abortSQLite
		}
		t.endLocked(err, cause)
		return res, t.err
	}
	t.reqs = append(t.reqs, cr)
	t.lastActive = time.Now() // idle from the end of the statement
	return res, nil
}

// Commit logs the transaction as one entry and waits until it is applied;
// every node then holds exactly what the client saw. A transaction that
// ran nothing logs nothing. On ErrTxConflict, a commit failure (a
// deferred constraint) or an abort, nothing of it is applied. Errors from
// the log (ErrApplyTimeout, ErrLeadershipLost) leave the outcome unknown,
// as for any write.
func (t *Tx) Commit(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err != nil {
		return t.err
	}
	if err := t.spec.Err(); err != nil {
		t.endLocked(fmt.Errorf("%w: %w", ErrTxAborted, err), abortPreempted)
		return t.err
	}
	if len(t.reqs) == 0 {
		t.endLocked(db.ErrSpecEnded, "")
		t.s.txs.commits.Add(1)
		return nil
	}
	t.idle.Stop()
	data, err := encodeCommand(&command{Type: cmdTx, Time: t.now.UnixNano(),
		Tx: &txCommand{Base: t.base, Seed: t.seed, Requests: t.reqs}})
	if err != nil {
		t.endLocked(err, abortCommit)
		return err
	}
	f := t.s.raft.Apply(data, t.s.cfg.ApplyTimeout)
	err = waitFuture(ctx, f, t.s.cfg.ApplyTimeout)
	if err == nil {
		if r, ok := f.Response().(txResult); !ok {
			err = fmt.Errorf("store: unexpected FSM response %T for entry %d", f.Response(), f.Index())
		} else {
			err = r.Err
		}
	}
	switch {
	case err == nil:
		t.s.txs.commits.Add(1)
		t.endLocked(db.ErrSpecEnded, "")
		return nil
	case errors.Is(err, ErrTxConflict):
		t.endLocked(err, abortConflict)
	default:
		t.endLocked(err, abortCommit)
	}
	return err
}

// Rollback ends the transaction without applying anything; ending one
// that is already over does nothing.
func (t *Tx) Rollback() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.err == nil {
		t.s.txs.rolled.Add(1)
		t.endLocked(db.ErrSpecEnded, "")
	}
}

// end aborts the transaction from outside its client (idle timer, the
// database preempting it); nothing happens if it is already over.
func (t *Tx) end(why error, cause string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.endLocked(why, cause)
}

// endLocked records why the transaction ended, rolls back its
// speculative run and frees the write slot, once.
func (t *Tx) endLocked(why error, cause string) {
	if t.err != nil {
		return
	}
	t.err = why
	if t.idle != nil {
		t.idle.Stop()
	}
	t.spec.Rollback()
	if cause != "" {
		t.s.txs.abort(cause)
		t.s.logger.Info("interactive transaction aborted", "cause", cause, "error", why)
	}
	t.s.txs.mu.Lock()
	if t.s.txs.current == t {
		t.s.txs.current = nil
	}
	t.s.txs.mu.Unlock()
	t.s.slot.release()
}

// ReadOnly reports whether every statement only reads (a statement that
// does not prepare counts as a write).
func (s *Store) ReadOnly(ctx context.Context, stmts []db.Statement) (bool, error) {
	if !s.open.Load() {
		return false, ErrNotOpen
	}
	return s.db.ReadOnly(ctx, stmts)
}

// Describe prepares one statement locally and reports its parameters and
// columns without running it.
func (s *Store) Describe(ctx context.Context, sql string) (db.Description, error) {
	if !s.open.Load() {
		return db.Description{}, ErrNotOpen
	}
	d, ok := s.db.(interface {
		Describe(ctx context.Context, sql string) (db.Description, error)
	})
	if !ok {
		return db.Description{}, ErrTxUnsupported
	}
	return d.Describe(ctx, sql)
}

// BeginRead opens a read-only transaction on this node's database: one
// snapshot, no write slot, nothing logged (Hrana's BEGIN TRANSACTION
// READONLY). It reads what this node has applied, like a weak read on
// the leader.
func (s *Store) BeginRead(ctx context.Context) (*db.ReadTx, error) {
	if !s.open.Load() {
		return nil, ErrNotOpen
	}
	d, ok := s.db.(interface {
		BeginRead(ctx context.Context) (*db.ReadTx, error)
	})
	if !ok {
		return nil, ErrTxUnsupported
	}
	return d.BeginRead(ctx)
}

package httpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// queuedExecute serves POST /db/execute?queue (API.md §3.3): the
// statements join the write queue and the reply carries their sequence
// number, right away or, with ?wait, once their batch was applied.
//
// Unlike rqlite, a malformed body is rejected with 400 rather than
// queued as an empty entry.
func (s *Service) queuedExecute(c echo.Context, p *params) error {
	if !p.noLeader && s.store.LeaderAddr() == "" {
		return store.ErrLeaderNotFound
	}
	stmts, err := s.readStatements(c, true)
	if err != nil && !(p.wait && errors.Is(err, ErrNoStatements)) {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	w, err := s.queue.enqueue(ctx, stmts, p.wait)
	if err != nil {
		return err
	}
	if p.wait {
		if err := s.queue.wait(ctx, w); err != nil {
			return err
		}
	}
	out := response{Results: []any{}, SequenceNumber: w.seq, Time: p.elapsed(c)}
	return writeJSON(c, http.StatusOK, out, p.pretty)
}

// queuedWrite is one queued request.
type queuedWrite struct {
	seq   int64
	stmts []db.Statement
	// applied is closed once the write's batch was applied or given up
	// on; nil unless someone waits.
	applied chan struct{}
}

type queueConfig struct {
	capacity, batchSize    int
	timeout, retryInterval time.Duration
	execTimeout            time.Duration
	tx                     bool
	firstSeq               int64 // sequence numbers start after it
}

// queue batches queued writes: a batch is flushed when it holds
// batchSize statements or timeout after its first write, as one Execute
// call (a transaction iff tx), retried while the failure is transient.
// Statement errors in the results are discarded.
type queue struct {
	cfg    queueConfig
	db     Database
	logger *slog.Logger

	ch   chan *queuedWrite
	stop chan struct{} // closed by close
	done chan struct{} // closed when run returns
	// ctx is cancelled when close gives up waiting for the last flush.
	ctx    context.Context
	cancel context.CancelFunc
	once   sync.Once

	mu      sync.Mutex // orders sequence numbers with channel sends
	lastSeq int64
	applied atomic.Int64 // highest sequence number applied
}

func newQueue(cfg queueConfig, database Database, logger *slog.Logger) *queue {
	ctx, cancel := context.WithCancel(context.Background())
	q := &queue{
		cfg: cfg, db: database, logger: logger,
		ch: make(chan *queuedWrite, cfg.capacity), stop: make(chan struct{}),
		done: make(chan struct{}), ctx: ctx, cancel: cancel, lastSeq: cfg.firstSeq,
	}
	go q.run()
	return q
}

// enqueue queues stmts under the next sequence number, blocking while
// the queue is full until ctx ends.
func (q *queue) enqueue(ctx context.Context, stmts []db.Statement, wait bool) (*queuedWrite, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	w := &queuedWrite{seq: q.lastSeq + 1, stmts: stmts}
	if wait {
		w.applied = make(chan struct{})
	}
	select {
	case <-q.stop:
		return nil, ErrQueueClosed
	default:
	}
	select {
	case q.ch <- w:
		q.lastSeq = w.seq
		return w, nil
	case <-q.stop:
		return nil, ErrQueueClosed
	case <-ctx.Done():
		return nil, ErrQueueFull
	}
}

// wait blocks until w's batch was applied.
func (q *queue) wait(ctx context.Context, w *queuedWrite) error {
	select {
	case <-w.applied:
		return nil
	case <-ctx.Done():
		return ErrQueueWaitTimeout
	case <-q.done:
		select {
		case <-w.applied:
			return nil
		default:
			return ErrQueueClosed
		}
	}
}

// appliedSeq is the sequence number of the last applied write, 0 if none.
func (q *queue) appliedSeq() int64 { return q.applied.Load() }

func (q *queue) stats() map[string]any {
	return map[string]any{
		"max_size":        q.cfg.capacity,
		"batch_size":      q.cfg.batchSize,
		"timeout":         q.cfg.timeout.String(),
		"tx":              q.cfg.tx,
		"sequence_number": q.appliedSeq(),
	}
}

func (q *queue) run() {
	defer close(q.done)
	var batch []*queuedWrite
	n := 0 // statements in batch
	timer := time.NewTimer(q.cfg.timeout)
	timer.Stop()
	flush := func(retry bool) {
		timer.Stop()
		q.flush(batch, retry)
		batch, n = nil, 0
	}
	for {
		select {
		case w := <-q.ch:
			if len(batch) == 0 {
				timer.Reset(q.cfg.timeout)
			}
			batch, n = append(batch, w), n+len(w.stmts)
			if n >= q.cfg.batchSize {
				flush(true)
			}
		case <-timer.C:
			flush(true)
		case <-q.stop:
			batch = append(batch, q.drain()...)
			flush(false)
			return
		}
	}
}

// drain takes whatever is buffered without blocking.
func (q *queue) drain() []*queuedWrite {
	var ws []*queuedWrite
	for range cap(q.ch) {
		select {
		case w := <-q.ch:
			ws = append(ws, w)
		default:
			return ws
		}
	}
	return ws
}

// flush applies a batch, then releases its waiters.
func (q *queue) flush(batch []*queuedWrite, retry bool) {
	if len(batch) == 0 {
		return
	}
	var stmts []db.Statement
	for _, w := range batch {
		stmts = append(stmts, w.stmts...)
	}
	if len(stmts) > 0 {
		q.apply(stmts, retry)
	}
	q.applied.Store(batch[len(batch)-1].seq)
	for _, w := range batch {
		if w.applied != nil {
			close(w.applied)
		}
	}
}

// apply executes stmts, retrying every retryInterval while the failure
// is transient and the queue is not stopping.
func (q *queue) apply(stmts []db.Statement, retry bool) {
	req := &store.Request{Request: db.Request{Statements: stmts, Transaction: q.cfg.tx}}
	for attempt := 1; ; attempt++ {
		err := q.execute(req)
		if err == nil {
			return
		}
		if !retry || !transient(err) {
			q.logger.Error("queued writes dropped", "statements", len(stmts), "attempt", attempt, "err", err)
			return
		}
		q.logger.Warn("queued writes not applied, retrying", "statements", len(stmts),
			"attempt", attempt, "retry_in", q.cfg.retryInterval, "err", err)
		t := time.NewTimer(q.cfg.retryInterval)
		select {
		case <-t.C:
		case <-q.stop:
			t.Stop()
			retry = false
		}
	}
}

// execute runs one attempt; a panic in the Database is an error, not a
// dead batcher.
func (q *queue) execute(req *store.Request) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: panic applying queued writes: %v", errInternal, r)
		}
	}()
	ctx, cancel := context.WithTimeout(q.ctx, q.cfg.execTimeout)
	defer cancel()
	if _, err := q.db.Execute(ctx, req); err != nil {
		return fmt.Errorf("execute queued batch: %w", err)
	}
	return nil
}

// transient reports whether a failed batch may succeed later and is safe
// to send again: only errors that prove it never reached the Raft log.
// An apply timeout, lost leadership or a deadline that passed after the
// entry was logged leave its outcome unknown: it may still commit, and a
// second attempt could apply it twice.
func transient(err error) bool {
	for _, e := range []error{store.ErrNotLeader, store.ErrLeaderNotFound, store.ErrNotOpen,
		store.ErrNotReady, store.ErrEnqueueTimeout} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// close stops the batcher after one last attempt to apply what is
// queued; if ctx ends first, that attempt is cancelled.
func (q *queue) close(ctx context.Context) error {
	q.once.Do(func() { close(q.stop) })
	select {
	case <-q.done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		<-q.done
		return fmt.Errorf("last flush: %w", ctx.Err())
	}
}

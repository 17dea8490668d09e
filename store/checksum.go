package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rdb/rdb/db"
)

// ErrChecksumUnavailable means this node has no digest at the asked
// index: it did not apply that marker entry itself (it restored a later
// snapshot, or restarted past it), or the digest was dropped as old.
var ErrChecksumUnavailable = errors.New("no checksum at that index")

// keptChecksums is how many markers' digests a node keeps.
const keptChecksums = 16

// pinner is implemented by *db.DB: a read pinned at the state after the
// last commit.
type pinner interface {
	Pin(ctx context.Context) (*db.PinnedRead, error)
}

// checksums are the digests this node computed at checksum markers: log
// entries the leader writes (a command with the Checksum flag and no
// requests) so that every node digests its database at the same index.
// The FSM pins a read right after committing the marker and the digest
// is computed off the FSM goroutine, so writes go on meanwhile.
type checksums struct {
	mu      sync.Mutex
	results map[uint64]*checksumResult
	order   []uint64
}

type checksumResult struct {
	done chan struct{} // closed once sum and err are set
	sum  db.Checksum
	err  error
}

func (c *checksums) add(index uint64) *checksumResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.results == nil {
		c.results = map[uint64]*checksumResult{}
	}
	r := &checksumResult{done: make(chan struct{})}
	if _, ok := c.results[index]; !ok {
		c.order = append(c.order, index)
	}
	c.results[index] = r
	for len(c.order) > keptChecksums {
		delete(c.results, c.order[0])
		c.order = c.order[1:]
	}
	return r
}

func (c *checksums) get(index uint64) *checksumResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.results[index]
}

// pinChecksum starts the digest r of the database as committed up to
// the marker at index (FSM goroutine, right after the commit).
func (p *processor) pinChecksum(index uint64, r *checksumResult) {
	if p.stopped != nil {
		r.err = fmt.Errorf("checksum marker %d: %w", index, errFSMStopped)
		close(r.done)
		return
	}
	pn, ok := p.db.(pinner)
	if !ok {
		r.err = fmt.Errorf("database cannot be digested: %w", ErrChecksumUnavailable)
		close(r.done)
		return
	}
	pr, err := pn.Pin(context.Background())
	if err != nil {
		r.err = fmt.Errorf("pin checksum read at %d: %w", index, err)
		close(r.done)
		return
	}
	go func() {
		defer close(r.done)
		r.sum, r.err = pr.Finish(context.Background())
		if r.err == nil && r.sum.Index != index {
			r.err = fmt.Errorf("checksum marker %d: database at %d: %w", index, r.sum.Index, ErrChecksumUnavailable)
		}
		if r.err != nil {
			p.logger.Warn("checksum failed", "index", index, "error", r.err)
		}
	}()
}

// Checksum digests this node's database as it is now, at whatever index
// it has applied (GET /db/checksum).
func (s *Store) Checksum(ctx context.Context) (db.Checksum, error) {
	if !s.open.Load() {
		return db.Checksum{}, ErrNotOpen
	}
	pn, ok := s.db.(pinner)
	if !ok {
		return db.Checksum{}, ErrChecksumUnavailable
	}
	pr, err := pn.Pin(ctx)
	if err != nil {
		return db.Checksum{}, fmt.Errorf("checksum: %w", err)
	}
	return pr.Finish(ctx)
}

// MarkChecksum logs a checksum marker (leader only) and returns this
// node's digest at it; other nodes compute theirs when they apply the
// marker, and ChecksumAt returns them.
func (s *Store) MarkChecksum(ctx context.Context) (db.Checksum, error) {
	if !s.open.Load() {
		return db.Checksum{}, ErrNotOpen
	}
	b, err := encodeCommand(&command{Type: cmdExecute, Time: time.Now().UnixNano(), Checksum: true})
	if err != nil {
		return db.Checksum{}, err
	}
	// Like any write, the marker waits for an open interactive
	// transaction to end rather than preempt it.
	if err := s.slot.enter(ctx, s.txBusyTimeout(), s.done); err != nil {
		return db.Checksum{}, fmt.Errorf("log checksum marker: %w", err)
	}
	f := s.raft.Apply(b, s.cfg.ApplyTimeout)
	s.slot.leave()
	if err := waitFuture(ctx, f, s.cfg.ApplyTimeout); err != nil {
		return db.Checksum{}, fmt.Errorf("log checksum marker: %w", err)
	}
	return s.ChecksumAt(ctx, f.Index())
}

// ChecksumAt waits (while ctx lasts) for this node's digest at the
// checksum marker at index. ErrChecksumUnavailable if the node applied
// past index without digesting it.
func (s *Store) ChecksumAt(ctx context.Context, index uint64) (db.Checksum, error) {
	// A peer may ask while this node is still opening (it restarted):
	// the FSM does not exist yet.
	if !s.open.Load() {
		return db.Checksum{}, ErrNotOpen
	}
	for {
		st, changed := s.proc.applied()
		if r := s.proc.sums.get(index); r != nil {
			select {
			case <-r.done:
				return r.sum, r.err
			default:
			}
			select {
			case <-r.done:
				return r.sum, r.err
			case <-ctx.Done():
				return db.Checksum{}, fmt.Errorf("checksum at %d: %w", index, ctx.Err())
			}
		}
		if st.Index >= index {
			return db.Checksum{}, fmt.Errorf("applied %d without a digest at %d: %w", st.Index, index, ErrChecksumUnavailable)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return db.Checksum{}, fmt.Errorf("checksum at %d: applied only up to %d: %w", index, st.Index, ctx.Err())
		}
	}
}

// tryCheckpointer is implemented by *db.DB.
type tryCheckpointer interface {
	TryCheckpoint(ctx context.Context) error
}

// checkpointIfFree checkpoints the WAL unless a reader holds it (then it
// fails at once, where Checkpoint would stall the write connection for
// the busy timeout): for the checkpoints after a snapshot, which only
// keep the WAL short. A digest's pinned read holds the WAL for seconds on
// a large database; each such stall stopped writes for 5 s.
func (p *processor) checkpointIfFree() error {
	if t, ok := p.db.(tryCheckpointer); ok {
		return t.TryCheckpoint(context.Background())
	}
	return p.db.Checkpoint(context.Background())
}

package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/snapshot"
)

// requestResult is the FSM's answer for one request of a command:
// statement errors live inside Results; Err is a failure of the database
// itself.
type requestResult struct {
	Results []db.Result
	Err     error
}

// appliedState is where the FSM stands.
type appliedState struct {
	Index      uint64    // last entry applied (command or configuration)
	Term       uint64    // term of the last command applied
	AppliedAt  time.Time // local time that command was applied
	AppendedAt time.Time // time the leader appended it
}

// processor decodes committed commands and runs them on the database, and
// tracks the applied position. apply, snapshot and restore are called only
// from raft's FSM goroutine, one at a time; the other methods are safe from
// any goroutine.
type processor struct {
	db       database
	tmpDir   string // same filesystem as the database, for renames
	logger   *slog.Logger
	starting atomic.Bool // restores now are start-up restores

	mu      sync.Mutex
	state   appliedState
	changed chan struct{} // closed and replaced whenever state advances
}

func newProcessor(d database, tmpDir string, logger *slog.Logger) *processor {
	return &processor{db: d, tmpDir: tmpDir, logger: logger, changed: make(chan struct{})}
}

// apply runs one committed command entry. An entry that does not decode
// is a broken invariant: skipping it would make this replica diverge.
func (p *processor) apply(l *raft.Log) []requestResult {
	cmd, err := decodeCommand(l.Data)
	if err != nil {
		panic(fmt.Sprintf("store: apply log entry %d: %v", l.Index, err))
	}
	switch cmd.Type {
	case cmdExecute, cmdQuery, cmdRequest:
	default:
		panic(fmt.Sprintf("store: apply log entry %d: unknown command type %d", l.Index, cmd.Type))
	}
	now := time.Unix(0, cmd.Time)
	out := make([]requestResult, len(cmd.Requests))
	for i := range cmd.Requests {
		cr := &cmd.Requests[i]
		env := db.Env{Seed: requestSeed(l.Index, i), Now: now}
		res, err := p.db.Apply(context.Background(), cr.dbRequest(), cr.Mode, env)
		if err != nil {
			p.logger.Error("apply request to database", "index", l.Index, "request", i, "error", err)
			err = fmt.Errorf("apply log entry %d: %w", l.Index, err)
		}
		out[i] = requestResult{Results: res, Err: err}
	}
	p.advance(l.Index, l.Term, l.AppendedAt, true)
	return out
}

// requestSeed is the PRNG seed of the i-th request of entry index: the
// index itself for the first, so every replica draws the same values.
func requestSeed(index uint64, i int) uint64 {
	return index + uint64(i)<<48
}

// advance records that the entry at index has been applied; term and
// appendedAt count only for commands (configuration entries carry none).
func (p *processor) advance(index, term uint64, appendedAt time.Time, isCommand bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state.Index = index
	if isCommand {
		p.state.Term = term
		p.state.AppliedAt = time.Now()
		p.state.AppendedAt = appendedAt
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// applied returns the current state and a channel closed when it changes.
func (p *processor) applied() (appliedState, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state, p.changed
}

// snapshot copies the database as of the last applied entry. It runs on
// the FSM goroutine, so no entry is applied during the copy; the copy is
// streamed later, by Persist, concurrently with applies.
func (p *processor) snapshot() (*fsmSnapshot, error) {
	dir, err := os.MkdirTemp(p.tmpDir, tempPrefix+"snapshot-*")
	if err != nil {
		return nil, fmt.Errorf("snapshot temp dir: %w", err)
	}
	path := filepath.Join(dir, "db.sqlite")
	if err := p.db.CopyTo(context.Background(), path); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy database for snapshot: %w", err)
	}
	st, _ := p.applied()
	meta := snapshot.Meta{Index: st.Index, Term: st.Term}
	return &fsmSnapshot{dir: dir, path: path, meta: meta, db: p.db, logger: p.logger}, nil
}

// restore replaces the database with the snapshot in rc, once it has been
// read completely and its checksum verified.
func (p *processor) restore(rc io.Reader) error {
	dir, err := os.MkdirTemp(p.tmpDir, tempPrefix+"restore-*")
	if err != nil {
		return fmt.Errorf("restore temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "db.sqlite")
	meta, err := snapshot.Read(rc, path)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	if err := p.db.Restore(path); err != nil {
		return fmt.Errorf("restore database from snapshot: %w", err)
	}
	p.reset(meta.Index, meta.Term)
	counters().Add(numRestores, 1)
	if p.starting.Load() {
		counters().Add(numRestoresStart, 1)
	}
	p.logger.Info("restored database from snapshot", "index", meta.Index, "term", meta.Term)
	return nil
}

// reset sets the applied position after a restore.
func (p *processor) reset(index, term uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = appliedState{Index: index, Term: term, AppliedAt: time.Now()}
	close(p.changed)
	p.changed = make(chan struct{})
}

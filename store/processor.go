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
	// fsmMu is held by every FSM call and by Boot, which replaces the
	// database outside the log.
	fsmMu sync.Mutex
	// liveMu is held while a full snapshot streams the live database
	// file; replacing the database waits for it (closing the connections
	// would checkpoint into the file being streamed).
	liveMu sync.Mutex
	// fullNeeded makes the next snapshot a full one: set at start (a
	// clean close checkpoints the WAL into the file, so the WAL no longer
	// holds every change since the last snapshot), after the database is
	// replaced, and after a failed snapshot.
	fullNeeded atomic.Bool
	// hasBase reports whether the snapshot store can take an incremental
	// snapshot.
	hasBase func() bool
	// stage is the chunked load being received, nil if none
	// (loadchunk.go); FSM calls only, under fsmMu.
	stage *stageMeta

	mu      sync.Mutex
	state   appliedState
	changed chan struct{} // closed and replaced whenever state advances
}

func newProcessor(d database, tmpDir string, logger *slog.Logger) *processor {
	p := &processor{db: d, tmpDir: tmpDir, logger: logger, changed: make(chan struct{})}
	p.fullNeeded.Store(true)
	p.recoverStage()
	return p
}

// apply runs one committed command entry. An entry that does not decode
// is a broken invariant: skipping it would make this replica diverge. An
// entry at or below the applied index is already in the database (the
// file survived a restart) and is skipped: applying it again would
// duplicate its writes.
func (p *processor) apply(l *raft.Log) []requestResult {
	if st, _ := p.applied(); l.Index <= st.Index {
		return nil
	}
	cmd, err := decodeCommand(l.Data)
	if err != nil {
		panic(fmt.Sprintf("store: apply log entry %d: %v", l.Index, err))
	}
	p.abandonStale(cmd.Time)
	switch cmd.Type {
	case cmdExecute, cmdQuery, cmdRequest:
	case cmdLoad:
		return p.applyLoad(l, cmd.Load)
	case cmdLoadChunk:
		if cmd.Chunk == nil {
			panic(fmt.Sprintf("store: apply log entry %d: load chunk entry without a chunk", l.Index))
		}
		return p.applyLoadChunk(l, cmd.Time, cmd.Chunk)
	default:
		panic(fmt.Sprintf("store: apply log entry %d: unknown command type %d", l.Index, cmd.Type))
	}
	now := time.Unix(0, cmd.Time)
	items := make([]db.Item, len(cmd.Requests))
	for i := range cmd.Requests {
		cr := &cmd.Requests[i]
		items[i] = db.Item{Req: cr.dbRequest(), Mode: cr.Mode, Env: db.Env{Seed: requestSeed(l.Index, i), Now: now}}
	}
	res, err := p.db.ApplyEntry(context.Background(), items, db.Applied{Index: l.Index, Term: l.Term})
	if err != nil {
		// The entry is not in the file. Carrying on would leave the file
		// without it under a later index; stopping lets a restart replay
		// it from the log (DESIGN.md).
		panic(fmt.Sprintf("store: apply log entry %d: %v", l.Index, err))
	}
	out := make([]requestResult, len(res))
	for i := range res {
		out[i] = requestResult{Results: res[i]}
	}
	p.advance(l.Index, l.Term, l.AppendedAt, true)
	return out
}

// storeConfiguration records a configuration entry as applied, in the
// database too, so the file's index always equals the FSM's.
func (p *processor) storeConfiguration(index uint64) {
	st, _ := p.applied()
	if index <= st.Index {
		return
	}
	if err := p.db.SetApplied(context.Background(), db.Applied{Index: index, Term: st.Term}); err != nil {
		panic(fmt.Sprintf("store: record configuration entry %d: %v", index, err))
	}
	p.advance(index, 0, time.Time{}, false)
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
	if err := p.replaceDB(path); err != nil {
		return fmt.Errorf("restore database from snapshot: %w", err)
	}
	p.dropStage() // the snapshot is the state before or after any load
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

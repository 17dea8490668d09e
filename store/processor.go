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
	db     database
	tmpDir string // same filesystem as the database, for renames
	logger *slog.Logger
	fatal  func(error) // Config.Fatal, never nil
	// stopped is the error fatal was called with, nil while running. Once
	// set the FSM applies, snapshots and restores nothing (FSM calls
	// only, under fsmMu).
	stopped  error
	starting atomic.Bool // restores now are start-up restores
	// fsmMu is held by every FSM call and by Boot, which replaces the
	// database outside the log.
	fsmMu sync.Mutex
	// live is the full snapshot that streams the live database file, nil
	// if none (guarded by liveMu). Replacing the database does not wait
	// for it: it marks it overtaken, so that its Persist fails (closing
	// the connections checkpoints into the file being streamed). Waiting
	// deadlocked: raft's snapshot goroutine holds the capture while it
	// asks raft's main loop for the configuration, and the main loop may
	// be waiting for this very restore (an incoming snapshot).
	liveMu sync.Mutex
	live   *fsmSnapshot
	// fullNeeded makes the next snapshot a full one: set at start (a
	// clean close checkpoints the WAL into the file, so the WAL no longer
	// holds every change since the last snapshot), after the database is
	// replaced, and after a failed snapshot.
	fullNeeded atomic.Bool
	// hasBase reports whether the snapshot store can take an incremental
	// snapshot.
	hasBase func() bool
	// copyBase copies the snapshot store's verified base to a path if it
	// holds meta (snapshot.Store.CopyBase); nil for none.
	copyBase func(meta snapshot.Meta, dst string) (bool, error)
	// node is this node's raft, once started: a strong read only matters
	// where a client waits for its answer, on the leader that logged it,
	// and other nodes skip it (it cannot change the database).
	node atomic.Pointer[raft.Raft]
	// onApplied is told how many bytes of commands were just applied
	// (FSM goroutine only); nil for none.
	onApplied func(bytes int)
	// stage is the chunked load being received, nil if none
	// (loadchunk.go); FSM calls only, under fsmMu.
	stage *stageMeta
	// sums are the digests taken at checksum markers (checksum.go).
	sums checksums
	// dbChanged is the index of the last entry that changed the
	// database (Store.DBAppliedIndex); written on the FSM goroutine.
	dbChanged atomic.Uint64
	// obs is told how long applies and snapshots take; never nil.
	obs Observer

	mu      sync.Mutex
	state   appliedState
	changed chan struct{} // closed and replaced whenever state advances
}

// newProcessor runs entries on d; fatal is Config.Fatal (nil panics).
func newProcessor(d database, tmpDir string, logger *slog.Logger, fatal func(error)) *processor {
	if fatal == nil {
		fatal = func(err error) { panic(err) }
	}
	p := &processor{db: d, tmpDir: tmpDir, logger: logger, fatal: fatal, obs: nopObserver{}, changed: make(chan struct{})}
	p.fullNeeded.Store(true)
	p.recoverStage()
	return p
}

// applyBatch runs committed entries (commands and configuration entries)
// in log order and returns one response per entry: a []requestResult for
// a command, nil otherwise. Consecutive SQL commands and configuration
// entries go to the database together, so it can commit them as one
// transaction (db.ApplyBatch); loads run alone. An entry that does not
// decode is a broken invariant: skipping it would make this replica
// diverge. An entry at or below the applied index is already in the
// database (the file survived a restart) and is skipped: applying it
// again would duplicate its writes. After a fatal database failure
// nothing more is applied and the remaining responses stay nil.
func (p *processor) applyBatch(logs []*raft.Log) []any {
	resp := make([]any, len(logs))
	st, _ := p.applied()
	b := batch{p: p, term: st.Term}
	for i, l := range logs {
		if p.stopped != nil {
			return resp
		}
		if l.Index <= st.Index {
			p.noteSkipped(l)
			continue
		}
		if l.Type != raft.LogCommand {
			b.add(i, l, nil, false)
			continue
		}
		cmd, err := decodeCommand(l.Data)
		if err != nil {
			panic(fmt.Sprintf("store: apply log entry %d: %v", l.Index, err))
		}
		p.abandonStale(cmd.Time)
		p.noteChange(l, cmd)
		switch cmd.Type {
		case cmdExecute, cmdQuery, cmdRequest:
			items := p.skipReadsElsewhere(commandItems(l.Index, cmd))
			if hooks.skipMatch != "" {
				items = p.skipHooked(l.Index, items)
			}
			b.add(i, l, items, true)
			if cmd.Checksum {
				// Registered before the index moves, so a waiter never
				// sees the marker applied without its digest.
				r := p.sums.add(l.Index)
				b.term = p.termAfter(b.term, l)
				b.flush(resp)
				p.pinChecksum(l.Index, r)
				continue
			}
		case cmdLoad:
			b.flush(resp)
			resp[i] = p.applyLoad(l, cmd.Load)
		case cmdLoadChunk:
			if cmd.Chunk == nil {
				panic(fmt.Sprintf("store: apply log entry %d: load chunk entry without a chunk", l.Index))
			}
			b.flush(resp)
			resp[i] = p.applyLoadChunk(l, cmd.Time, cmd.Chunk)
		case cmdTx:
			if cmd.Tx == nil {
				panic(fmt.Sprintf("store: apply log entry %d: transaction entry without a transaction", l.Index))
			}
			b.flush(resp)
			resp[i] = p.applyTx(l, cmd.Time, cmd.Tx)
		default:
			panic(fmt.Sprintf("store: apply log entry %d: unknown command type %d", l.Index, cmd.Type))
		}
		b.term = p.termAfter(b.term, l)
	}
	b.flush(resp)
	if p.onApplied != nil {
		n := 0
		for _, l := range logs {
			n += len(l.Data)
		}
		p.onApplied(n)
	}
	return resp
}

// termAfter is the term of the last command applied once l is.
func (p *processor) termAfter(term uint64, l *raft.Log) uint64 {
	if l.Type == raft.LogCommand {
		return l.Term
	}
	return term
}

// commandItems turns a SQL command's requests into database items, each
// with its entry's deterministic environment.
func commandItems(index uint64, cmd *command) []db.Item {
	now := time.Unix(0, cmd.Time)
	items := make([]db.Item, len(cmd.Requests))
	for i := range cmd.Requests {
		cr := &cmd.Requests[i]
		items[i] = db.Item{Req: cr.dbRequest(), Mode: cr.Mode, Env: db.Env{Seed: requestSeed(index, i), Now: now}}
	}
	return items
}

// skipReadsElsewhere empties the strong reads (db.ModeQuery requests) of
// an entry on a node that does not lead: nobody waits for their rows
// there, and a read-only request leaves the database and the connection
// state as they were (ModeQuery refuses writes), so skipping it changes
// nothing any later entry can see.
func (p *processor) skipReadsElsewhere(items []db.Item) []db.Item {
	if r := p.node.Load(); r == nil || r.State() == raft.Leader {
		return items
	}
	for i := range items {
		if items[i].Mode == db.ModeQuery {
			items[i].Req = &db.Request{}
		}
	}
	return items
}

// batch gathers entries for one db.ApplyBatch call.
type batch struct {
	p       *processor
	term    uint64 // term of the last command added (or applied before)
	entries []db.Entry
	slots   []int       // each entry's position in the response slice
	logs    []*raft.Log // each entry's log
	cmds    []bool      // whether each entry is a command
}

// add queues log l (at response slot i); configuration entries carry no
// items and record the term of the last command before them.
func (b *batch) add(i int, l *raft.Log, items []db.Item, isCommand bool) {
	term := b.term
	if isCommand {
		term = l.Term
	}
	b.entries = append(b.entries, db.Entry{Items: items, At: db.Applied{Index: l.Index, Term: term}})
	b.slots = append(b.slots, i)
	b.logs = append(b.logs, l)
	b.cmds = append(b.cmds, isCommand)
}

// flush applies the queued entries and fills their responses. If the
// database cannot commit them the process stops (processor.fail):
// carrying on would leave the file without them under a later index, and
// a restart replays them from the log (DESIGN.md).
func (b *batch) flush(resp []any) {
	if len(b.entries) == 0 || b.p.stopped != nil {
		return
	}
	res, err := b.p.db.ApplyBatch(context.Background(), b.entries)
	if err != nil {
		b.p.fail(fmt.Errorf("store: apply log entries %d-%d: %w",
			b.entries[0].At.Index, b.entries[len(b.entries)-1].At.Index, err))
		return
	}
	for k, slot := range b.slots {
		if !b.cmds[k] {
			continue
		}
		out := make([]requestResult, len(res[k]))
		for j := range res[k] {
			out[j] = requestResult{Results: res[k][j]}
		}
		resp[slot] = out
	}
	b.p.advanceTo(b.logs, b.cmds)
	b.entries, b.slots, b.logs, b.cmds = b.entries[:0], b.slots[:0], b.logs[:0], b.cmds[:0]
}

// fail stops the FSM on a database failure it cannot recover from:
// applying later entries would put them in the file under a position
// that lacks this one. It calls fatal, which normally ends the process;
// if fatal returns (tests), the processor stays stopped. FSM calls only.
func (p *processor) fail(err error) {
	p.stopped = err
	p.logger.Error("FSM stopped", "error", err)
	p.fatal(err)
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

// advanceTo records that logs (cmds says which are commands) have been
// applied, waking waiters once.
func (p *processor) advanceTo(logs []*raft.Log, cmds []bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	for k, l := range logs {
		p.state.Index = l.Index
		if cmds[k] {
			p.state.Term = l.Term
			p.state.AppliedAt = now
			p.state.AppendedAt = l.AppendedAt
		}
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
	if p.stopped != nil {
		return fmt.Errorf("restore: %w", errFSMStopped)
	}
	dir, err := os.MkdirTemp(p.tmpDir, tempPrefix+"restore-*")
	if err != nil {
		return fmt.Errorf("restore temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "db.sqlite")
	meta, err := p.readSnapshot(rc, path)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	if err := p.replaceDB(path); err != nil {
		return fmt.Errorf("restore database from snapshot: %w", err)
	}
	p.dropStage() // the snapshot is the state before or after any load
	p.reset(meta.Index, meta.Term)
	p.dbChanged.Store(meta.Index)
	counters().Add(numRestores, 1)
	if p.starting.Load() {
		counters().Add(numRestoresStart, 1)
	}
	p.logger.Info("restored database from snapshot", "index", meta.Index, "term", meta.Term)
	return nil
}

// readSnapshot writes the database of the snapshot streamed by rc to
// path. When the snapshot store holds that database as a base it has
// verified itself (just installed from the leader), the file is copied
// from there and the stream is not read past its header: raft's stream
// is the same file, re-encoded through a pipe with a checksum that would
// be computed and checked again.
func (p *processor) readSnapshot(rc io.Reader, path string) (snapshot.Meta, error) {
	meta, whole, err := snapshot.PeekMeta(rc)
	if err != nil {
		return snapshot.Meta{}, err
	}
	if p.copyBase != nil {
		ok, err := p.copyBase(meta, path)
		if err != nil {
			p.logger.Warn("copying the verified snapshot base failed; reading the stream instead", "error", err)
		} else if ok {
			return meta, nil
		}
	}
	return snapshot.Read(whole, path)
}

// reset sets the applied position after a restore.
func (p *processor) reset(index, term uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state = appliedState{Index: index, Term: term, AppliedAt: time.Now()}
	close(p.changed)
	p.changed = make(chan struct{})
}

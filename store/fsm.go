package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/snapshot"
)

// fsm adapts the command processor to raft.FSM, keeping Apply, Snapshot
// and Restore off the Store's API. Raft calls ApplyBatch (commands and
// configuration entries alike), Snapshot and Restore from one goroutine,
// in log order; every replica
// applying the same entries must reach the same database, which is why
// Apply takes its time and randomness from the entry (db.Env), never from
// the local node.
type fsm struct{ p *processor }

var _ raft.BatchingFSM = fsm{}

// Apply runs a committed command; the response is a []requestResult.
func (f fsm) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch runs committed commands and configuration entries, as few
// SQLite transactions as they allow (group commit): raft hands over
// whatever has been committed since the last call, so a lone write is
// applied at once and concurrent writes share a commit.
func (f fsm) ApplyBatch(logs []*raft.Log) []any {
	f.p.fsmMu.Lock()
	defer f.p.fsmMu.Unlock()
	start := time.Now()
	resp := f.p.applyBatch(logs)
	f.p.obs.FSMApplied(len(logs), time.Since(start))
	return resp
}

// Snapshot copies the database; see processor.snapshot.
func (f fsm) Snapshot() (raft.FSMSnapshot, error) {
	f.p.fsmMu.Lock()
	defer f.p.fsmMu.Unlock()
	start := time.Now()
	snap, err := f.p.snapshot()
	if err != nil {
		return nil, err
	}
	snap.started = start
	return snap, nil
}

// Restore replaces the database with a snapshot.
func (f fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	f.p.fsmMu.Lock()
	defer f.p.fsmMu.Unlock()
	return f.p.restore(rc)
}

// fsmSnapshot is what Snapshot captured: a private copy of the database
// (fake databases), the live database file right after a full checkpoint
// (a full snapshot), or a copy of the WAL (an incremental one).
type fsmSnapshot struct {
	p       *processor
	dir     string        // private files, removed by Release
	path    string        // the copy (private-copy snapshots)
	file    *os.File      // the file to stream (full and WAL snapshots)
	version byte          // snapshot.Version or snapshot.VersionWAL
	meta    snapshot.Meta // where the FSM stood when it was captured
	live    bool          // file is the live database, registered as p.live
	started time.Time     // when the capture began (metrics)
	// overtaken: the database was replaced while this live snapshot was
	// registered (guarded by p.liveMu).
	overtaken bool
}

// errSnapshotOvertaken fails the Persist of a full snapshot whose file
// was replaced (by a restore) before it had been streamed.
var errSnapshotOvertaken = errors.New("database replaced while the snapshot was streamed")

// Persist streams the capture into the sink in the snapshot format. A
// failure makes the next snapshot a full one: the store's chain of
// incremental snapshots may now lack these changes.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	var err error
	if s.file != nil {
		err = snapshot.WriteFrom(sink, s.file, s.version, s.meta)
	} else {
		err = snapshot.Write(sink, s.path, s.meta)
	}
	if err == nil && s.live && s.p.endLive(s) {
		err = errSnapshotOvertaken
	}
	if err != nil {
		sink.Cancel()
		s.p.fullNeeded.Store(true)
		return fmt.Errorf("persist snapshot %s: %w", sink.ID(), err)
	}
	if err := sink.Close(); err != nil {
		s.p.fullNeeded.Store(true)
		return fmt.Errorf("close snapshot %s: %w", sink.ID(), err)
	}
	if s.version == snapshot.Version && s.file != nil {
		s.p.fullNeeded.Store(false)
	}
	counters().Add(numSnapshots, 1)
	s.p.obs.SnapshotTaken(time.Since(s.started))
	if s.file == nil {
		// A private copy: the WAL's content is now in the snapshot.
		if err := s.p.checkpointIfFree(); err != nil {
			s.p.logger.Warn("checkpoint after snapshot", "error", err)
		}
	}
	return nil
}

// Release drops the capture.
func (s *fsmSnapshot) Release() {
	if s.file != nil {
		s.file.Close()
	}
	if s.live {
		s.p.endLive(s)
		s.live = false
	}
	if s.dir == "" {
		return
	}
	if err := os.RemoveAll(s.dir); err != nil {
		s.p.logger.Warn("remove snapshot copy", "dir", s.dir, "error", err)
	}
}

package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/snapshot"
)

// fsm adapts the command processor to raft.FSM, keeping Apply, Snapshot
// and Restore off the Store's API. Raft calls Apply, Snapshot, Restore and
// StoreConfiguration from one goroutine, in log order; every replica
// applying the same entries must reach the same database, which is why
// Apply takes its time and randomness from the entry (db.Env), never from
// the local node.
type fsm struct{ p *processor }

var (
	_ raft.FSM                = fsm{}
	_ raft.ConfigurationStore = fsm{}
)

// Apply runs a committed command; the response is a []requestResult.
func (f fsm) Apply(l *raft.Log) any { return f.p.apply(l) }

// Snapshot copies the database; see processor.snapshot.
func (f fsm) Snapshot() (raft.FSMSnapshot, error) { return f.p.snapshot() }

// Restore replaces the database with a snapshot.
func (f fsm) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	return f.p.restore(rc)
}

// StoreConfiguration counts a committed configuration entry as applied, so
// the applied index can reach the commit index after membership changes.
func (f fsm) StoreConfiguration(index uint64, _ raft.Configuration) {
	f.p.advance(index, 0, time.Time{}, false)
}

// fsmSnapshot is a private copy of the database taken by Snapshot.
type fsmSnapshot struct {
	dir, path string
	meta      snapshot.Meta // where the FSM stood when the copy was taken
	db        database
	logger    *slog.Logger
}

// Persist streams the copy into the sink in the snapshot format, then
// truncates the WAL: its content is now in the snapshot.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := snapshot.Write(sink, s.path, s.meta); err != nil {
		sink.Cancel()
		return fmt.Errorf("persist snapshot %s: %w", sink.ID(), err)
	}
	if err := sink.Close(); err != nil {
		return fmt.Errorf("close snapshot %s: %w", sink.ID(), err)
	}
	counters().Add(numSnapshots, 1)
	if err := s.db.Checkpoint(context.Background()); err != nil {
		s.logger.Warn("checkpoint after snapshot", "error", err)
	}
	return nil
}

// Release removes the copy.
func (s *fsmSnapshot) Release() {
	if err := os.RemoveAll(s.dir); err != nil {
		s.logger.Warn("remove snapshot copy", "dir", s.dir, "error", err)
	}
}

package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rdb/rdb/snapshot"
)

// walDatabase is a database whose WAL the snapshots can capture (*db.DB).
// The others (test fakes) are snapshotted as private copies.
type walDatabase interface {
	Path() string
	CopyWAL(dst string) error
}

// snapshot captures the database as of the last applied entry. It runs on
// the FSM goroutine, so no entry is applied meanwhile; what it captures is
// streamed later, by Persist, while applies continue (see DESIGN.md):
//
//   - incremental (the usual case): a copy of the WAL, i.e. the changes
//     since the previous snapshot, then a checkpoint; cost and size follow
//     the changes, not the database;
//   - full (first snapshot after start or a replaced database, or when
//     the snapshot store has no base): a complete checkpoint, after which
//     the main file alone is the database; Persist streams it in place,
//     since only the next snapshot checkpoints into it again.
func (p *processor) snapshot() (*fsmSnapshot, error) {
	if p.stopped != nil {
		return nil, errFSMStopped
	}
	if p.stage != nil {
		return nil, errLoadInProgress
	}
	st, _ := p.applied()
	meta := snapshot.Meta{Index: st.Index, Term: st.Term}
	w, ok := p.db.(walDatabase)
	switch {
	case !ok:
		return p.copySnapshot(meta)
	case p.fullNeeded.Load() || p.hasBase == nil || !p.hasBase():
		return p.fullSnapshot(w, meta)
	}
	return p.walSnapshot(w, meta)
}

func (p *processor) copySnapshot(meta snapshot.Meta) (*fsmSnapshot, error) {
	dir, err := os.MkdirTemp(p.tmpDir, tempPrefix+"snapshot-*")
	if err != nil {
		return nil, fmt.Errorf("snapshot temp dir: %w", err)
	}
	path := filepath.Join(dir, sqliteName)
	if err := p.db.CopyTo(context.Background(), path); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy database for snapshot: %w", err)
	}
	return &fsmSnapshot{p: p, dir: dir, path: path, version: snapshot.Version, meta: meta}, nil
}

func (p *processor) fullSnapshot(w walDatabase, meta snapshot.Meta) (*fsmSnapshot, error) {
	if err := p.db.Checkpoint(context.Background()); err != nil {
		return nil, fmt.Errorf("full snapshot: %w", err)
	}
	f, err := os.Open(w.Path())
	if err != nil {
		return nil, fmt.Errorf("full snapshot: %w", err)
	}
	s := &fsmSnapshot{p: p, file: f, version: snapshot.Version, meta: meta, live: true}
	p.liveMu.Lock()
	p.live = s
	p.liveMu.Unlock()
	return s, nil
}

// endLive unregisters s as the live snapshot and reports whether the
// database was replaced while s was registered (its stream is then not
// the captured state).
func (p *processor) endLive(s *fsmSnapshot) (overtaken bool) {
	p.liveMu.Lock()
	defer p.liveMu.Unlock()
	if p.live == s {
		p.live = nil
	}
	return s.overtaken
}

func (p *processor) walSnapshot(w walDatabase, meta snapshot.Meta) (*fsmSnapshot, error) {
	dir, err := os.MkdirTemp(p.tmpDir, tempPrefix+"snapshot-*")
	if err != nil {
		return nil, fmt.Errorf("snapshot temp dir: %w", err)
	}
	path := filepath.Join(dir, "wal")
	if err := w.CopyWAL(path); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy WAL for snapshot: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("copy WAL for snapshot: %w", err)
	}
	// The copy holds every frame up to here. If readers keep the
	// checkpoint from finishing, the WAL keeps those frames and the next
	// copy repeats them, which is harmless (page images, in order).
	if err := p.checkpointIfFree(); err != nil {
		p.logger.Warn("checkpoint after incremental snapshot", "error", err)
	}
	return &fsmSnapshot{p: p, dir: dir, file: f, version: snapshot.VersionWAL, meta: meta}, nil
}

// replaceDB swaps in the database file at path and makes the next
// snapshot a full one. A full snapshot still streaming the live file is
// overtaken: its Persist fails rather than file what it read.
func (p *processor) replaceDB(path string) error {
	p.liveMu.Lock()
	if p.live != nil {
		p.live.overtaken = true
		p.live = nil
		p.logger.Info("database replaced during a full snapshot; that snapshot will be dropped")
	}
	p.liveMu.Unlock()
	defer p.fullNeeded.Store(true)
	return p.db.Restore(path)
}

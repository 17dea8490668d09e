package store

// Start-up sync: before raft starts, the database file left by the last
// run is kept, restored from the newest snapshot, or rebuilt, so that
// raft's replay of the log brings it up to date (DESIGN.md).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// openDB opens the database file left by the previous run (removing only
// temporary copies). The file records the last log entry it reflects
// (db.Applied), so it is kept: syncDB decides what it still lacks. A file
// that does not open is set aside and rebuilt from the snapshot and log.
func (s *Store) openDB() error {
	stale, _ := filepath.Glob(filepath.Join(s.cfg.Dir, tempPrefix+"*"))
	for _, p := range stale {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("remove stale %s: %w", p, err)
		}
	}
	path := filepath.Join(s.cfg.Dir, sqliteName)
	d, err := s.openDBFile(path)
	if err != nil {
		s.logger.Warn("database does not open, rebuilding it from the Raft log", "path", path, "error", err)
		if err := removeDBFiles(path); err != nil {
			return err
		}
		if d, err = s.openDBFile(path); err != nil {
			return fmt.Errorf("open database %s: %w", path, err)
		}
	}
	s.db = d
	s.proc = newProcessor(d, s.cfg.Dir, s.logger, s.cfg.Fatal)
	s.proc.onApplied = s.noteApplied
	s.proc.obs = s.cfg.observer()
	return nil
}

func (s *Store) openDBFile(path string) (database, error) {
	open := s.cfg.openDB
	if open == nil {
		open = openSQLite
	}
	d, err := open(db.Config{Path: path, FKConstraints: s.cfg.FKConstraints, MaxReadConns: s.cfg.MaxReadConns, MaxResultBytes: s.cfg.MaxResultBytes, Changes: s.cfg.Changes})
	if err != nil {
		return nil, err
	}
	if _, err := d.Applied(context.Background()); err != nil {
		return nil, errors.Join(err, d.Close())
	}
	return d, nil
}

// removeDBFiles deletes the database file and its WAL and shared memory.
func removeDBFiles(path string) error {
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// syncDB brings the database to at least the newest snapshot before raft
// starts (raft itself restores nothing: NoSnapshotRestoreOnStart). If the
// file already reflects the snapshot's index, nothing is copied and raft
// replays only the entries after it, of which the FSM skips those the file
// has. Otherwise the snapshot is restored. A file that does not belong to
// this log (ahead of it, or with another term at its index) is discarded.
func (s *Store) syncDB(logs raft.LogStore) error {
	ctx := context.Background()
	at, err := s.db.Applied(ctx)
	if err != nil {
		return fmt.Errorf("read database position: %w", err)
	}
	metas, err := s.snaps.List()
	if err != nil {
		return fmt.Errorf("list snapshots: %w", err)
	}
	if ok, why := s.fileMatchesLog(at, logs, metas); !ok {
		s.logger.Warn("database does not match the Raft log, rebuilding it", "index", at.Index, "term", at.Term, "reason", why)
		if err := s.resetDB(); err != nil {
			return err
		}
		at = db.Applied{}
	}
	s.proc.reset(at.Index, at.Term)
	if metas, err = s.bridgeLogGap(at, logs, metas); err != nil {
		return err
	}
	if len(metas) == 0 {
		return nil
	}
	snapIndex, err := s.snapshotIndex(metas[0].ID)
	if err != nil {
		return err
	}
	s.proc.dbChanged.Store(snapIndex)
	if at.Index >= snapIndex {
		counters().Add(numRestoresStartSkipped, 1)
		s.logger.Info("database is current, snapshot restore skipped", "index", at.Index, "snapshot_index", snapIndex)
		return nil
	}
	return s.restoreSnapshot(metas[0].ID)
}

// fileMatchesLog checks that a recorded position can come from this log.
func (s *Store) fileMatchesLog(at db.Applied, logs raft.LogStore, metas []*raft.SnapshotMeta) (bool, string) {
	if at.Index == 0 {
		return true, ""
	}
	first, err1 := logs.FirstIndex()
	last, err2 := logs.LastIndex()
	if err := errors.Join(err1, err2); err != nil {
		return false, err.Error()
	}
	known := last
	if len(metas) > 0 {
		known = max(known, metas[0].Index)
	}
	if at.Index > known {
		return false, fmt.Sprintf("ahead of the log (last index %d)", known)
	}
	if at.Index < first || at.Index > last {
		return true, ""
	}
	var l raft.Log
	if err := logs.GetLog(at.Index, &l); err != nil {
		return false, err.Error()
	}
	if l.Type == raft.LogCommand && l.Term != at.Term {
		return false, fmt.Sprintf("log has term %d at that index", l.Term)
	}
	return true, ""
}

// resetDB replaces the database with an empty one.
func (s *Store) resetDB() error {
	path := filepath.Join(s.cfg.Dir, sqliteName)
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close database: %w", err)
	}
	if err := removeDBFiles(path); err != nil {
		return err
	}
	d, err := s.openDBFile(path)
	if err != nil {
		return fmt.Errorf("open database %s: %w", path, err)
	}
	s.db = d
	s.proc.db = d
	return nil
}

// snapshotIndex reads the FSM index a snapshot stands for from its header
// (without checksumming the whole snapshot).
func (s *Store) snapshotIndex(id string) (uint64, error) {
	meta, err := s.snaps.ReadMeta(id)
	if err != nil {
		return 0, err
	}
	return meta.Index, nil
}

// restoreSnapshot restores the database from snapshot id at start-up.
func (s *Store) restoreSnapshot(id string) error {
	_, rc, err := s.snaps.Open(id)
	if err != nil {
		return err
	}
	defer rc.Close()
	s.proc.starting.Store(true)
	defer s.proc.starting.Store(false)
	if err := s.proc.restore(rc); err != nil {
		return fmt.Errorf("restore snapshot %s at start: %w", id, err)
	}
	return nil
}

// bridgeLogGap handles snapshots the snapshot store set aside as
// unreadable (see snapshot.NewStore) when the log no longer reaches back
// to the newest remaining one: raft would then need entries it no longer
// has. If the database holds every entry up to the log's start, it becomes
// the newest snapshot (a full one, at its own index) and the node starts;
// otherwise nothing on this node can fill the gap.
func (s *Store) bridgeLogGap(at db.Applied, logs raft.LogStore, metas []*raft.SnapshotMeta) ([]*raft.SnapshotMeta, error) {
	first, err := logs.FirstIndex()
	if err != nil {
		return nil, fmt.Errorf("read first log index: %w", err)
	}
	var snapIndex uint64
	if len(metas) > 0 {
		snapIndex = metas[0].Index
	}
	if first <= snapIndex+1 {
		return metas, nil
	}
	if at.Index+1 < first {
		return nil, fmt.Errorf("the log starts at %d but the newest usable snapshot is at %d and the database at %d: "+
			"remove the data directory and join the node again", first, snapIndex, at.Index)
	}
	s.logger.Warn("snapshots missing below the start of the log, snapshotting the database", "index", at.Index, "first_log_index", first, "snapshot_index", snapIndex)
	if err := s.snapshotDB(at, logs, metas); err != nil {
		return nil, fmt.Errorf("snapshot the database at start: %w", err)
	}
	return s.snaps.List()
}

// snapshotDB persists the database, at position at, as a full snapshot
// carrying the newest configuration raft knows up to there.
func (s *Store) snapshotDB(at db.Applied, logs raft.LogStore, metas []*raft.SnapshotMeta) error {
	conf, confIndex, err := configurationAt(at.Index, logs, metas)
	if err != nil {
		return err
	}
	if len(conf.Servers) == 0 {
		s.logger.Warn("no configuration found up to the database's index; the node follows the leader until it sends one", "index", at.Index)
	}
	snap, err := s.proc.snapshot()
	if err != nil {
		return err
	}
	defer snap.Release()
	sink, err := s.snaps.Create(raft.SnapshotVersionMax, at.Index, at.Term, conf, confIndex, s.tn)
	if err != nil {
		return err
	}
	return snap.Persist(sink)
}

// configurationAt returns the newest configuration at or below index: the
// last configuration entry in the log, else the newest snapshot's.
func configurationAt(index uint64, logs raft.LogStore, metas []*raft.SnapshotMeta) (raft.Configuration, uint64, error) {
	first, err1 := logs.FirstIndex()
	last, err2 := logs.LastIndex()
	if err := errors.Join(err1, err2); err != nil {
		return raft.Configuration{}, 0, err
	}
	var l raft.Log
	for i := min(index, last); i >= first && i > 0; i-- {
		if err := logs.GetLog(i, &l); err != nil {
			return raft.Configuration{}, 0, fmt.Errorf("read log entry %d: %w", i, err)
		}
		if l.Type == raft.LogConfiguration {
			return raft.DecodeConfiguration(l.Data), i, nil
		}
	}
	if len(metas) > 0 {
		return metas[0].Configuration, metas[0].ConfigurationIndex, nil
	}
	return raft.Configuration{}, 0, nil
}

package snapshot

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// recover brings the directory back to a state the store can use after a
// crash at any step (DESIGN.md, "Crash safety"): partial and garbage
// directories go, an interrupted base install is completed, snapshots
// that cannot be read are set aside (with a warning) together with those
// that build on them, and a fold that a crash cut short is completed. It never fails for
// a snapshot it cannot read: the store decides whether the database still
// needs one.
func (s *Store) recover() error {
	if err := s.removeLeftovers(); err != nil {
		return err
	}
	if err := s.resolveBaseNew(); err != nil {
		return err
	}
	if err := s.dropUnusable(); err != nil {
		return err
	}
	return s.refold()
}

// removeLeftovers deletes partial snapshots (tmp-*) and garbage (gc-*).
func (s *Store) removeLeftovers() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), tmpPrefix) || strings.HasPrefix(e.Name(), gcPrefix) {
			if err := s.fs.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// resolveBaseNew finishes installing base.new, which is only ever renamed
// into place complete and durable; one that does not read is discarded.
func (s *Store) resolveBaseNew() error {
	p := filepath.Join(s.dir, baseNewDir)
	if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if _, err := checkSnapshotDir(p); err != nil {
		s.logger.Warn("discarding an unreadable new snapshot base", "dir", p, "error", err)
		return s.discard(baseNewDir)
	}
	s.logger.Info("completing a snapshot base install interrupted by a crash")
	return s.installBase()
}

// dropUnusable sets aside what chain could not use: an unreadable base
// (and then every incremental snapshot), an unreadable incremental
// snapshot and every later one (each builds on its predecessor), and
// incremental snapshots the base already holds.
func (s *Store) dropUnusable() error {
	wals, err := s.walNames()
	if err != nil {
		return err
	}
	base, err := checkSnapshotDir(filepath.Join(s.dir, baseDir))
	if err != nil {
		return s.dropBase(wals, err)
	}
	usable := make(map[string]uint64, len(wals))
	broken := uint64(math.MaxUint64) // lowest index of an unreadable WAL
	for _, name := range wals {
		m, err := checkSnapshotDir(filepath.Join(s.dir, name))
		if err == nil {
			usable[name] = m.Raft.Index
			continue
		}
		s.logger.Warn("setting aside an unreadable incremental snapshot", "dir", name, "error", err)
		if err := s.discard(name); err != nil {
			return err
		}
		if index, ok := walIndex(name); !ok || index > base.Raft.Index {
			broken = min(broken, max(index, base.Raft.Index+1))
		}
	}
	for _, name := range wals {
		index, ok := usable[name]
		switch {
		case !ok:
			continue
		case index > broken:
			s.logger.Warn("setting aside an incremental snapshot that builds on an unreadable one", "dir", name)
		case index > base.Raft.Index:
			continue
		}
		if err := s.discard(name); err != nil {
			return err
		}
	}
	return nil
}

// dropBase handles a base that does not read (why): the incremental
// snapshots cannot be used without it either.
func (s *Store) dropBase(wals []string, why error) error {
	if _, err := os.Stat(filepath.Join(s.dir, baseDir)); err == nil {
		s.logger.Warn("setting aside an unreadable snapshot base and the incremental snapshots on it", "error", why)
		if err := s.discard(baseDir); err != nil {
			return err
		}
	} else if len(wals) > 0 {
		s.logger.Warn("setting aside incremental snapshots that have no base", "count", len(wals))
	}
	for _, name := range wals {
		if err := s.discard(name); err != nil {
			return err
		}
	}
	return nil
}

// refold completes a fold that a crash cut short: when the fold marker
// names the oldest incremental snapshot, that snapshot is folded into the
// base again (its meta moves only after the fold, so it is still the
// oldest). Without a marker no fold was under way and nothing is read:
// opening costs no checkpoint.
func (s *Store) refold() error {
	marker := filepath.Join(s.dir, foldingFile)
	// A marker still being written: its fold had not started.
	if err := s.fs.Remove(marker + ".tmp"); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drop fold marker: %w", err)
	}
	b, err := os.ReadFile(marker)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read fold marker: %w", err)
	}
	metas, err := s.chain()
	if err != nil {
		return err
	}
	if len(metas) >= 2 && walPrefix+metas[1].Raft.ID == string(b) {
		if s.applyWAL == nil {
			return errors.New("snapshot: an interrupted fold needs ApplyWAL")
		}
		s.logger.Warn("completing a snapshot fold interrupted by a crash", "snapshot", metas[1].Raft.ID)
		if err := s.foldIntoBase(metas[1]); err != nil {
			return fmt.Errorf("fold %s into the base: %w", metas[1].Raft.ID, err)
		}
		return nil
	}
	if err := s.fs.Remove(marker); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drop fold marker: %w", err)
	}
	return nil
}

// walNames lists the incremental snapshot directories.
func (s *Store) walNames() ([]string, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), walPrefix) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// checkSnapshotDir reads dir's meta and checks that its data is there.
func checkSnapshotDir(dir string) (storedMeta, error) {
	m, err := readStoredMeta(dir)
	if err != nil {
		return m, err
	}
	if _, err := os.Stat(filepath.Join(dir, dataFile)); err != nil {
		return m, err
	}
	return m, nil
}

// walIndex parses the raft index out of a "wal-<term>-<index>-<ms>" name.
func walIndex(name string) (uint64, bool) {
	parts := strings.Split(strings.TrimPrefix(name, walPrefix), "-")
	if len(parts) != 3 {
		return 0, false
	}
	index, err := strconv.ParseUint(parts[1], 10, 64)
	return index, err == nil
}

package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// MaxLoadSize bounds a database file loaded through the log (POST
// /db/load), as a guard for the disk of every node. Files over 1 MiB
// travel in chunks (loadchunk.go), so no entry or node holds the whole
// file in memory. /boot has no such limit.
const MaxLoadSize = 64 << 30

// BackupFormat is the format of a backup (API.md §4).
type BackupFormat uint8

const (
	// BackupBinary is a consistent copy of the database file, in WAL mode.
	BackupBinary BackupFormat = iota
	// BackupDelete is the same copy in rollback-journal (DELETE) mode.
	BackupDelete
	// BackupSQL is a text dump (db.Dump).
	BackupSQL
)

// Backup writes a consistent copy of the local database to w. It reads
// one snapshot of the database and never blocks writes. tables limits a
// SQL dump. The store's bookkeeping table is not part of any backup.
func (s *Store) Backup(ctx context.Context, w io.Writer, format BackupFormat, tables []string) error {
	if !s.open.Load() {
		return ErrNotOpen
	}
	if format == BackupSQL {
		d, ok := s.db.(sqliteDB)
		if !ok {
			return errors.New("store: SQL dump needs a SQLite database")
		}
		return d.Dump(ctx, w, tables)
	}
	dir, err := os.MkdirTemp(s.cfg.Dir, tempPrefix+"backup-*")
	if err != nil {
		return fmt.Errorf("backup temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, sqliteName)
	if err := s.db.CopyTo(ctx, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if err := db.PrepareBackup(ctx, path, format == BackupBinary); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	if _, err := io.Copy(w, f); err != nil {
		return fmt.Errorf("backup: write: %w", err)
	}
	return nil
}

// Load replaces the database on every node with the SQLite file at path,
// through one log entry. The file is checked (db.CheckFile) before
// anything changes: a corrupt, truncated or non-SQLite file fails with
// db.ErrCorrupt or db.ErrNotSQLite and the database is untouched.
func (s *Store) Load(ctx context.Context, path string) error {
	if !s.open.Load() {
		return ErrNotOpen
	}
	if s.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	if err := db.CheckFile(ctx, path); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	if fi.Size() > MaxLoadSize {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrLoadTooLarge, fi.Size(), MaxLoadSize)
	}
	if fi.Size() > int64(s.loadChunk()) {
		return s.loadChunked(ctx, path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	return s.applyLoadCommand(ctx, &command{Type: cmdLoad, Time: time.Now().UnixNano(), Load: data})
}

// applyLoadCommand logs one load entry and waits for its result.
func (s *Store) applyLoadCommand(ctx context.Context, cmd *command) error {
	b, err := encodeCommand(cmd)
	if err != nil {
		return err
	}
	f := s.raft.Apply(b, s.cfg.ApplyTimeout)
	if err := waitFuture(ctx, f, s.cfg.ApplyTimeout); err != nil {
		return err
	}
	if rr, ok := f.Response().([]requestResult); ok && len(rr) == 1 && rr[0].Err != nil {
		return rr[0].Err
	}
	return nil
}

// applyLoad swaps in the database carried by a load entry, stamped with
// the entry's index so the file and its position change together.
func (p *processor) applyLoad(l *raft.Log, data []byte) []requestResult {
	at := db.Applied{Index: l.Index, Term: l.Term}
	if err := p.swapIn(at, func(path string) error { return os.WriteFile(path, data, 0o600) }); err != nil {
		p.logger.Error("load database", "index", l.Index, "error", err)
		// The database is unchanged; record the entry as applied.
		if err := p.db.SetApplied(context.Background(), at); err != nil {
			p.fail(fmt.Errorf("store: record load entry %d: %w", l.Index, err))
			return nil
		}
		p.advance(l.Index, l.Term, l.AppendedAt, true)
		return []requestResult{{Err: fmt.Errorf("load database: %w", err)}}
	}
	p.advance(l.Index, l.Term, l.AppendedAt, true)
	return []requestResult{{}}
}

// swapIn writes a new database with fill into a temp file, stamps it with
// at and makes it the database.
func (p *processor) swapIn(at db.Applied, fill func(path string) error) error {
	dir, err := os.MkdirTemp(p.tmpDir, tempPrefix+"load-*")
	if err != nil {
		return fmt.Errorf("load temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, sqliteName)
	if err := fill(path); err != nil {
		return err
	}
	ctx := context.Background()
	if err := db.CheckFile(ctx, path); err != nil {
		return err
	}
	if err := db.StampFile(ctx, path, at); err != nil {
		return err
	}
	return p.replaceDB(path)
}

// Boot replaces the database of a single-node cluster with the SQLite file
// at path without going through the log (POST /boot), then snapshots so
// the new content survives a restart and log truncation. The file is
// checked first; it is copied, not moved.
func (s *Store) Boot(ctx context.Context, path string) error {
	if !s.open.Load() {
		return ErrNotOpen
	}
	if s.raft.State() != raft.Leader {
		return ErrNotLeader
	}
	servers, err := s.Servers()
	if err != nil {
		return err
	}
	if len(servers) != 1 {
		return ErrNotSingleNode
	}
	if err := db.CheckFile(ctx, path); err != nil {
		return err
	}
	if err := s.bootSwap(path); err != nil {
		return err
	}
	// An entry after the swap gives the snapshot something new to cover.
	if _, err := s.applyRequest(ctx, cmdExecute, &Request{}, db.ModeExecute); err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	// Truncate the log up to that entry: the entries before the swap no
	// longer describe the database, so a node joining later must get the
	// snapshot, not a replay of the log.
	if err := s.Snapshot(1); err != nil && !errors.Is(err, ErrNothingNewToSnapshot) {
		return fmt.Errorf("boot: %w", err)
	}
	return nil
}

// bootSwap swaps the file in on the FSM's behalf, stamped with the
// position the FSM has reached: it replaces everything up to there.
func (s *Store) bootSwap(path string) error {
	p := s.proc
	p.fsmMu.Lock()
	defer p.fsmMu.Unlock()
	st, _ := p.applied()
	return p.swapIn(db.Applied{Index: st.Index, Term: st.Term}, func(dst string) error {
		return copyFile(path, dst)
	})
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("copy to %s: %w", dst, err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s to %s: %w", src, dst, err)
	}
	return out.Close()
}

// Reap folds every incremental snapshot into the snapshot store's base
// (POST /reap) and reports its two counts, each measured on its own:
// walsCheckpointed is how many incremental WALs were checkpointed into the
// base, snapshotsReaped how many of the snapshots listed before are gone
// after (a snapshot persisted meanwhile is not counted). The database
// itself is not checkpointed here: only snapshots may, or the next
// incremental snapshot would miss changes.
func (s *Store) Reap(context.Context) (snapshotsReaped, walsCheckpointed int, err error) {
	if !s.open.Load() {
		return 0, 0, ErrNotOpen
	}
	before, err := s.snaps.List()
	if err != nil {
		return 0, 0, fmt.Errorf("reap: list snapshots: %w", err)
	}
	folded, err := s.snaps.Reap()
	after, lerr := s.snaps.List()
	if lerr != nil {
		return 0, folded, errors.Join(err, fmt.Errorf("reap: list snapshots: %w", lerr))
	}
	if err != nil {
		err = fmt.Errorf("reap: %w", err)
	}
	return len(goneSnapshots(before, after)), folded, err
}

// goneSnapshots lists the IDs in before that are not in after.
func goneSnapshots(before, after []*raft.SnapshotMeta) []string {
	kept := make(map[string]bool, len(after))
	for _, m := range after {
		kept[m.ID] = true
	}
	var gone []string
	for _, m := range before {
		if !kept[m.ID] {
			gone = append(gone, m.ID)
		}
	}
	return gone
}

package snapshot

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// ApplyWALFunc folds the WAL file walPath into the database file dbPath,
// in place and crash-safely (a SQLite checkpoint). The store calls it to
// reap incremental snapshots into the base and to rebuild a whole
// database for Open; the package itself knows nothing of SQLite.
type ApplyWALFunc func(dbPath, walPath string) error

// Config says where snapshots live and how they are reaped.
type Config struct {
	// Dir is the parent directory; snapshots go in Dir/snapshots.
	Dir string
	// Retain is how many incremental snapshots are kept on top of the base
	// before the oldest are folded into it.
	Retain int
	// ApplyWAL folds a WAL into a database; required once incremental
	// snapshots are stored.
	ApplyWAL ApplyWALFunc
	// Logger receives the store's messages; nil discards them.
	Logger hclog.Logger
}

// DefaultConfig keeps two incremental snapshots on top of the base.
func DefaultConfig() Config { return Config{Retain: 2} }

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	if c.Dir == "" {
		return errors.New("snapshot: empty dir")
	}
	if c.Retain < 1 {
		return fmt.Errorf("snapshot: retain %d: must be at least 1", c.Retain)
	}
	return nil
}

// Store is the raft.SnapshotStore for rdb snapshots: one base (a whole
// database file) and the incremental snapshots after it (WAL files), see
// DESIGN.md. Directory layout under Dir/snapshots:
//
//	base/      meta.json, data     the base database
//	wal-<id>/  meta.json, data     one incremental snapshot
//	tmp-<id>/                      a snapshot being written
//	base.new/  meta.json, data     a complete base being installed
//	gc-*/                          a directory being deleted
type Store struct {
	dir      string
	retain   int
	applyWAL ApplyWALFunc
	logger   hclog.Logger
	fs       fileOps // every change to the directory goes through it

	mu sync.Mutex // guards the directory
	// readers counts Open streams reading the base file itself (not a
	// copy); while any is open the base is not folded into in place.
	readers int
	// verified is the raft ID of the base a sink of this process filed:
	// its bytes matched the stream's checksum moments ago (CopyBase).
	verified string
}

var _ raft.SnapshotStore = (*Store)(nil)

const (
	baseDir    = "base"
	baseNewDir = "base.new"
	walPrefix  = "wal-"
	tmpPrefix  = "tmp-"
	gcPrefix   = "gc-"
	metaFile   = "meta.json"
	dataFile   = "data"
	// foldingFile names the incremental snapshot being folded into the
	// base, while a fold is under way.
	foldingFile = "folding"
)

// storedMeta is meta.json: raft's view and the FSM's.
type storedMeta struct {
	Raft raft.SnapshotMeta
	FSM  Meta
}

// NewStore opens (creating if needed) the snapshot store in cfg.Dir and
// resolves whatever a crash left half done (see recover).
func NewStore(cfg Config) (*Store, error) {
	return newStore(cfg, osOps{})
}

func newStore(cfg Config, ops fileOps) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	s := &Store{dir: filepath.Join(cfg.Dir, "snapshots"), retain: cfg.Retain, applyWAL: cfg.ApplyWAL, logger: logger, fs: ops}
	if err := s.fs.MkdirAll(s.dir); err != nil {
		return nil, fmt.Errorf("open snapshot store %s: %w", s.dir, err)
	}
	if err := s.recover(); err != nil {
		return nil, fmt.Errorf("open snapshot store %s: %w", s.dir, err)
	}
	return s, nil
}

// Dir is the directory holding the snapshots.
func (s *Store) Dir() string { return s.dir }

// Create starts a new snapshot; raft writes the FSM's stream (either
// format version) into the sink.
func (s *Store) Create(version raft.SnapshotVersion, index, term uint64,
	configuration raft.Configuration, configurationIndex uint64, _ raft.Transport,
) (raft.SnapshotSink, error) {
	id := fmt.Sprintf("%d-%d-%d", term, index, time.Now().UnixMilli())
	tmp := filepath.Join(s.dir, tmpPrefix+id)
	if err := s.fs.MkdirAll(tmp); err != nil {
		return nil, fmt.Errorf("create snapshot %s: %w", id, err)
	}
	f, err := s.fs.Create(filepath.Join(tmp, dataFile))
	if err != nil {
		s.fs.RemoveAll(tmp)
		return nil, fmt.Errorf("create snapshot %s: %w", id, err)
	}
	meta := raft.SnapshotMeta{Version: version, ID: id, Index: index, Term: term,
		Configuration: configuration, ConfigurationIndex: configurationIndex}
	return &sink{store: s, dir: tmp, f: f, dec: newDecoder(f), meta: meta}, nil
}

// List returns the snapshots, newest first: the incremental ones, then the
// base.
func (s *Store) List() ([]*raft.SnapshotMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	metas, err := s.chain()
	if err != nil {
		return nil, err
	}
	out := make([]*raft.SnapshotMeta, len(metas))
	for i, m := range metas {
		out[len(metas)-1-i] = &m.Raft
	}
	return out, nil
}

// HasBase reports whether the store holds a base database, on which an
// incremental snapshot can build.
func (s *Store) HasBase() bool {
	_, err := os.Stat(filepath.Join(s.dir, baseDir, metaFile))
	return err == nil
}

// chain returns the base and the incremental snapshots, oldest first,
// ignoring incremental ones already folded into the base.
func (s *Store) chain() ([]storedMeta, error) {
	base, err := readStoredMeta(filepath.Join(s.dir, baseDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := []storedMeta{base}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), walPrefix) {
			continue
		}
		m, err := readStoredMeta(filepath.Join(s.dir, e.Name()))
		if err != nil {
			return nil, err
		}
		if m.Raft.Index > base.Raft.Index {
			out = append(out, m)
		}
	}
	slices.SortFunc(out[1:], func(a, b storedMeta) int { return compareIndex(a.Raft, b.Raft) })
	return out, nil
}

func compareIndex(a, b raft.SnapshotMeta) int {
	if a.Term != b.Term {
		return cmpU(a.Term, b.Term)
	}
	return cmpU(a.Index, b.Index)
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func readStoredMeta(dir string) (storedMeta, error) {
	var m storedMeta
	b, err := os.ReadFile(filepath.Join(dir, metaFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode %s: %w", filepath.Join(dir, metaFile), err)
	}
	return m, nil
}

// writeStoredMeta writes meta.json atomically and durably (temp file,
// sync, rename, sync of the directory).
func (s *Store) writeStoredMeta(dir string, m storedMeta) error {
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, metaFile+".tmp")
	f, err := s.fs.Create(tmp)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return err
	}
	return s.rename(tmp, filepath.Join(dir, metaFile))
}

// ReadMeta returns the FSM meta of snapshot id without reading its data.
func (s *Store) ReadMeta(id string) (Meta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	metas, err := s.chain()
	if err != nil {
		return Meta{}, err
	}
	for _, m := range metas {
		if m.Raft.ID == id {
			return m.FSM, nil
		}
	}
	return Meta{}, fmt.Errorf("snapshot %s: %w", id, os.ErrNotExist)
}

// Open returns snapshot id as one whole-database stream (format Version).
// The base alone is streamed from its own file, which is then not folded
// into until the stream is closed (a new base replaces it by rename,
// which an open file does not see). A snapshot with incremental ones on
// top is the base with them folded in, rebuilt in a private copy that
// Close removes. Never held in memory.
func (s *Store) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	rc, m, err := s.openFile(id)
	if err != nil {
		return nil, nil, fmt.Errorf("open snapshot %s: %w", id, err)
	}
	fi, err := rc.f.Stat()
	if err != nil {
		rc.Close()
		return nil, nil, fmt.Errorf("open snapshot %s: %w", id, err)
	}
	meta := m.Raft
	// raft sends Size to a follower as the stream's length: it is the
	// rebuilt whole-database stream, not what the store keeps.
	meta.Size = int64(headerSize) + fi.Size() + int64(sumLen(Version))
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(WriteFrom(pw, rc.f, Version, m.FSM)) }()
	rc.PipeReader = pr
	return &meta, rc, nil
}

// openFile opens the file to stream for snapshot id: the base's own,
// counted in readers and opened under mu so no new base can take its
// place in between, when id is the base or the newest snapshot (folded
// into the base first); else a private materialized copy.
func (s *Store) openFile(id string) (*openSnapshot, storedMeta, error) {
	s.mu.Lock()
	metas, err := s.chain()
	if err == nil && len(metas) > 1 && metas[len(metas)-1].Raft.ID == id && s.readers == 0 {
		// The newest snapshot, with incremental ones on the base: fold
		// them in place (each costs its WAL's size) rather than copy the
		// whole base to fold them into the copy.
		if _, err := s.reapLocked(0); err != nil {
			s.mu.Unlock()
			return nil, storedMeta{}, err
		}
		metas, err = s.chain()
	}
	if err == nil && len(metas) > 0 && metas[0].Raft.ID == id {
		defer s.mu.Unlock()
		f, err := os.Open(filepath.Join(s.dir, baseDir, dataFile))
		if err != nil {
			return nil, storedMeta{}, err
		}
		s.readers++
		return &openSnapshot{s: s, f: f}, metas[0], nil
	}
	s.mu.Unlock()
	if err != nil {
		return nil, storedMeta{}, err
	}
	path, m, err := s.materialize(id)
	if err != nil {
		return nil, storedMeta{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		os.RemoveAll(filepath.Dir(path))
		return nil, storedMeta{}, err
	}
	return &openSnapshot{s: s, f: f, private: true, dir: filepath.Dir(path)}, m, nil
}

// materialize copies the base and folds the incremental snapshots up to
// id into the copy.
func (s *Store) materialize(id string) (string, storedMeta, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	metas, err := s.chain()
	if err != nil {
		return "", storedMeta{}, err
	}
	end := slices.IndexFunc(metas, func(m storedMeta) bool { return m.Raft.ID == id })
	if end < 0 {
		return "", storedMeta{}, os.ErrNotExist
	}
	tmp, err := os.MkdirTemp(s.dir, tmpPrefix+"open-")
	if err != nil {
		return "", storedMeta{}, err
	}
	path := filepath.Join(tmp, dataFile)
	if err := copyFile(filepath.Join(s.dir, baseDir, dataFile), path); err != nil {
		os.RemoveAll(tmp)
		return "", storedMeta{}, err
	}
	for _, m := range metas[1 : end+1] {
		if err := s.fold(path, filepath.Join(s.dir, walPrefix+m.Raft.ID, dataFile)); err != nil {
			os.RemoveAll(tmp)
			return "", storedMeta{}, err
		}
	}
	return path, metas[end], nil
}

func (s *Store) fold(dbPath, walPath string) error {
	if s.applyWAL == nil {
		return errors.New("snapshot: no ApplyWAL configured for incremental snapshots")
	}
	if err := s.applyWAL(dbPath, walPath); err != nil {
		return fmt.Errorf("fold %s into %s: %w", walPath, dbPath, err)
	}
	return nil
}

// openSnapshot is the stream Open returns.
type openSnapshot struct {
	*io.PipeReader
	s       *Store
	f       *os.File
	private bool   // f is a materialized copy in dir, removed on Close
	dir     string // set when private
	once    sync.Once
}

func (o *openSnapshot) Close() error {
	if o.PipeReader != nil {
		o.PipeReader.Close()
	}
	o.f.Close()
	return o.release()
}

// release drops the copy, or the hold on the base file, once.
func (o *openSnapshot) release() error {
	var err error
	o.once.Do(func() {
		if o.private {
			err = os.RemoveAll(o.dir)
			return
		}
		o.s.mu.Lock()
		o.s.readers--
		o.s.mu.Unlock()
	})
	return err
}

// Reap folds every incremental snapshot into the base and returns how many
// it folded (POST /reap).
func (s *Store) Reap() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reapLocked(0)
}

// reapLocked folds the oldest incremental snapshots into the base until at
// most keep are left, unless an Open stream is reading the base file.
func (s *Store) reapLocked(keep int) (int, error) {
	if s.readers > 0 {
		// The base is being streamed from its own file; the next
		// snapshot or reap folds these.
		return 0, nil
	}
	metas, err := s.chain()
	if err != nil || len(metas) <= 1+keep {
		return 0, err
	}
	folded := 0
	for _, m := range metas[1 : len(metas)-keep] {
		if err := s.foldIntoBase(m); err != nil {
			return folded, fmt.Errorf("reap: %w", err)
		}
		folded++
	}
	return folded, nil
}

// foldIntoBase folds m, the oldest incremental snapshot above the base,
// into the base: it records that the fold started (the marker file
// foldingFile names m), checkpoints m into base/data in place, moves the
// base's meta forward (atomic and durable), discards the WAL and drops the
// marker. A crash during the checkpoint can leave the base's file half
// written; NewStore then finds the marker and folds m again (page images,
// in order: repeating a complete fold changes nothing). A crash after the
// meta moved leaves a WAL the base already holds, which chain ignores and
// NewStore discards.
func (s *Store) foldIntoBase(m storedMeta) error {
	name := walPrefix + m.Raft.ID
	if err := s.markFolding(name); err != nil {
		return err
	}
	base := filepath.Join(s.dir, baseDir)
	if err := s.fold(filepath.Join(base, dataFile), filepath.Join(s.dir, name, dataFile)); err != nil {
		return err
	}
	if err := s.writeStoredMeta(base, m); err != nil {
		return err
	}
	if err := s.discard(name); err != nil {
		return err
	}
	// A marker that outlives a crash only makes NewStore look for a WAL
	// that is gone.
	if err := s.fs.Remove(filepath.Join(s.dir, foldingFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("drop fold marker: %w", err)
	}
	return nil
}

// markFolding durably records that the incremental snapshot name is being
// folded into the base.
func (s *Store) markFolding(name string) error {
	tmp := filepath.Join(s.dir, foldingFile+".tmp")
	f, err := s.fs.Create(tmp)
	if err != nil {
		return fmt.Errorf("fold marker: %w", err)
	}
	if _, err := f.WriteString(name); err != nil {
		f.Close()
		return fmt.Errorf("fold marker: %w", err)
	}
	if err := errors.Join(f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("fold marker: %w", err)
	}
	return s.rename(tmp, filepath.Join(s.dir, foldingFile))
}

// installBase makes base.new (complete and durable) the base, dropping
// the old base and every incremental snapshot: they are renamed to
// garbage names first, then base.new becomes base, then the garbage is
// deleted. A crash at any step leaves base.new, or base, complete, and
// NewStore calls installBase again while base.new exists.
func (s *Store) installBase() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var garbage []string
	for _, e := range entries {
		if e.Name() == baseDir || strings.HasPrefix(e.Name(), walPrefix) {
			gc, err := s.setAside(e.Name())
			if err != nil {
				return err
			}
			garbage = append(garbage, gc)
		}
	}
	if err := s.rename(filepath.Join(s.dir, baseNewDir), filepath.Join(s.dir, baseDir)); err != nil {
		return fmt.Errorf("install base: %w", err)
	}
	for _, gc := range garbage {
		if err := s.fs.RemoveAll(gc); err != nil {
			return fmt.Errorf("install base: %w", err)
		}
	}
	return nil
}

// CopyBase writes the base's database to a new file at dst, synced, when
// the base holds meta and was received and verified by this process (a
// snapshot installed from the leader): ok is false, with nothing written,
// otherwise, and the caller reads the snapshot stream, which verifies it.
// It spares the restore that follows an install from streaming the file
// it was just given through a pipe and two more checksum passes.
func (s *Store) CopyBase(meta Meta, dst string) (ok bool, err error) {
	s.mu.Lock()
	metas, err := s.chain()
	if err != nil || len(metas) == 0 || s.verified == "" ||
		metas[0].Raft.ID != s.verified || metas[0].FSM != meta {
		s.mu.Unlock()
		return false, nil
	}
	src, err := os.Open(filepath.Join(s.dir, baseDir, dataFile))
	if err != nil {
		s.mu.Unlock()
		return false, nil
	}
	s.readers++ // no fold into the base while it is copied
	s.mu.Unlock()
	defer func() {
		src.Close()
		s.mu.Lock()
		s.readers--
		s.mu.Unlock()
	}()
	if err := copyDurable(src, dst); err != nil {
		os.Remove(dst)
		return false, fmt.Errorf("copy snapshot base to %s: %w", dst, err)
	}
	return true, nil
}

// copyDurable copies src to a new file at dst in the kernel
// (copy_file_range where it exists), starting the disk writes as it goes,
// and syncs dst.
func copyDurable(src *os.File, dst string) error {
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	var off int64
	for {
		n, err := io.CopyN(out, src, writebackChunk)
		if n > 0 {
			startWriteback(out, off, n)
			off += n
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			out.Close()
			return err
		}
	}
	return errors.Join(out.Sync(), out.Close())
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

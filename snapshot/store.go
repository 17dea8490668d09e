package snapshot

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Config says where snapshots live and how many are kept.
type Config struct {
	// Dir is the parent directory; snapshots go in Dir/snapshots.
	Dir string
	// Retain is how many snapshots are kept after a new one completes.
	Retain int
	// Logger receives the store's messages; nil discards them.
	Logger hclog.Logger
}

// DefaultConfig keeps two snapshots, as rqlite does.
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

// Store is the raft.SnapshotStore for rdb snapshots. For now it keeps whole
// snapshots as files (raft.FileSnapshotStore); the stream inside each is
// the format of Write.
type Store struct {
	files *raft.FileSnapshotStore
	dir   string
}

var _ raft.SnapshotStore = (*Store)(nil)

// NewStore opens (creating if needed) the snapshot store in cfg.Dir.
func NewStore(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := cfg.Logger
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	fs, err := raft.NewFileSnapshotStoreWithLogger(cfg.Dir, cfg.Retain, logger)
	if err != nil {
		return nil, fmt.Errorf("open snapshot store %s: %w", cfg.Dir, err)
	}
	return &Store{files: fs, dir: filepath.Join(cfg.Dir, "snapshots")}, nil
}

// Dir is the directory holding the snapshots.
func (s *Store) Dir() string { return s.dir }

// Create starts a new snapshot; raft writes the FSM's stream into the sink.
func (s *Store) Create(version raft.SnapshotVersion, index, term uint64,
	configuration raft.Configuration, configurationIndex uint64, trans raft.Transport,
) (raft.SnapshotSink, error) {
	return s.files.Create(version, index, term, configuration, configurationIndex, trans)
}

// List returns the snapshots, newest first.
func (s *Store) List() ([]*raft.SnapshotMeta, error) { return s.files.List() }

// Open returns a snapshot's metadata and its stream.
func (s *Store) Open(id string) (*raft.SnapshotMeta, io.ReadCloser, error) {
	meta, rc, err := s.files.Open(id)
	if err != nil {
		return nil, nil, fmt.Errorf("open snapshot %s: %w", id, err)
	}
	return meta, rc, nil
}

package backup

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// metadataName is the file beside the backups that records the last
// upload's ID.
const metadataName = "METADATA.json"

// FileStorage writes backups into a local directory (type file).
type FileStorage struct {
	dir, name string
	timestamp bool
}

// fileMetadata is METADATA.json.
type fileMetadata struct {
	ID        string `json:"id"`
	Timestamp int64  `json:"timestamp"` // Unix ms
	Name      string `json:"name"`      // full path of the data file
}

// NewFileStorage creates the directory if needed and checks that it is
// writable.
func NewFileStorage(cfg *FileConfig, timestamp bool) (*FileStorage, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create backup directory: %w", err)
	}
	f, err := os.CreateTemp(cfg.Dir, ".probe-*")
	if err != nil {
		return nil, fmt.Errorf("backup directory %s is not writable: %w", cfg.Dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return &FileStorage{dir: cfg.Dir, name: cfg.Name, timestamp: timestamp}, nil
}

func (s *FileStorage) String() string { return fmt.Sprintf("dir:%s, file:%s", s.dir, s.name) }

// Upload writes r to a temp file, syncs it and renames it into place,
// then records id in METADATA.json the same way.
func (s *FileStorage) Upload(_ context.Context, r io.Reader, _ int64, id string, at time.Time) error {
	name := s.name
	if s.timestamp {
		name = timestamped(name, at)
	}
	dst := filepath.Join(s.dir, name)
	if err := writeDurable(s.dir, dst, func(f *os.File) error {
		_, err := io.Copy(f, r)
		return err
	}); err != nil {
		return wrapStorage("upload to", s.String(), err)
	}
	meta, err := json.Marshal(fileMetadata{ID: id, Timestamp: at.UnixMilli(), Name: dst})
	if err != nil {
		return err
	}
	return wrapStorage("record backup ID in", s.dir, writeDurable(s.dir, filepath.Join(s.dir, metadataName), func(f *os.File) error {
		_, err := f.Write(meta)
		return err
	}))
}

// CurrentID reads the ID from METADATA.json.
func (s *FileStorage) CurrentID(context.Context) (string, error) {
	b, err := os.ReadFile(filepath.Join(s.dir, metadataName))
	if errors.Is(err, os.ErrNotExist) {
		return "", ErrNoStoredID
	}
	if err != nil {
		return "", fmt.Errorf("read backup ID: %w", err)
	}
	var m fileMetadata
	if err := json.Unmarshal(b, &m); err != nil {
		return "", fmt.Errorf("parse %s: %w", metadataName, err)
	}
	if m.ID == "" {
		return "", ErrNoStoredID
	}
	return m.ID, nil
}

// writeDurable fills a temp file in dir, fsyncs it, renames it to dst and
// fsyncs dir, so that after a crash dst is either old or new, whole.
func writeDurable(dir, dst string, fill func(*os.File) error) error {
	f, err := os.CreateTemp(dir, ".upload-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	err = fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

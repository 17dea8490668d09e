package snapshot

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// fileOps are the changes the Store makes to its directory. Production
// uses osOps; tests wrap it to record the order of the operations or to
// stop the store at any step, as a kill would. Reads go to os directly:
// they change nothing a crash could leave half done.
type fileOps interface {
	MkdirAll(path string) error
	Create(path string) (*os.File, error)
	Rename(oldpath, newpath string) error
	Remove(path string) error
	RemoveAll(path string) error
	// SyncDir fsyncs a directory, making the renames, creations and
	// removals of its entries durable.
	SyncDir(path string) error
}

// osOps is fileOps on the real file system.
type osOps struct{}

func (osOps) MkdirAll(path string) error           { return os.MkdirAll(path, 0o755) }
func (osOps) Create(path string) (*os.File, error) { return os.Create(path) }
func (osOps) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }
func (osOps) Remove(path string) error             { return os.Remove(path) }
func (osOps) RemoveAll(path string) error          { return os.RemoveAll(path) }
func (osOps) SyncDir(path string) error            { return syncDir(path) }

// syncDir fsyncs the directory at path.
func syncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// rename renames oldpath to newpath and fsyncs the directories involved,
// so the rename survives a power loss before anything relies on it.
func (s *Store) rename(oldpath, newpath string) error {
	if err := s.fs.Rename(oldpath, newpath); err != nil {
		return err
	}
	if err := s.fs.SyncDir(filepath.Dir(newpath)); err != nil {
		return fmt.Errorf("sync dir of %s: %w", newpath, err)
	}
	if filepath.Dir(oldpath) == filepath.Dir(newpath) {
		return nil
	}
	if err := s.fs.SyncDir(filepath.Dir(oldpath)); err != nil {
		return fmt.Errorf("sync dir of %s: %w", oldpath, err)
	}
	return nil
}

// discard deletes the entry name of the snapshots directory crash-safely:
// it is set aside first, so no reader (and no NewStore after a crash)
// ever sees it half deleted, then removed.
func (s *Store) discard(name string) error {
	gc, err := s.setAside(name)
	if err != nil {
		return err
	}
	if err := s.fs.RemoveAll(gc); err != nil {
		return fmt.Errorf("discard %s: %w", name, err)
	}
	return nil
}

// setAside renames the entry name of the snapshots directory to a garbage
// name, durably, and returns its new path. NewStore removes garbage a
// crash left behind.
func (s *Store) setAside(name string) (string, error) {
	gc := filepath.Join(s.dir, gcPrefix+strconv.FormatInt(time.Now().UnixNano(), 36)+"-"+name)
	if err := s.rename(filepath.Join(s.dir, name), gc); err != nil {
		return "", fmt.Errorf("set aside %s: %w", name, err)
	}
	return gc, nil
}

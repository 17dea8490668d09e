package backup

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"time"
)

// Provider is the node as the uploader needs it. All methods are safe for
// concurrent use.
type Provider interface {
	// IsLeader reports whether this node leads the cluster now.
	IsLeader() bool
	// DBAppliedIndex is the index of the last log entry that changed the
	// database: equal on every node, unchanged by a restart without
	// writes (store.Store.DBAppliedIndex).
	DBAppliedIndex() uint64
	// Backup writes a consistent SQLite copy of the database to w,
	// vacuumed if asked.
	Backup(ctx context.Context, w io.Writer, vacuum bool) error
}

// Backup file attempts: a backup can fail while the database is being
// replaced (a load, a snapshot install); the next try usually succeeds.
const (
	backupTries      = 10
	backupRetryDelay = 500 * time.Millisecond
)

// Uploader uploads a backup every interval while this node leads and
// the database changed since the last upload (OPS.md §2.2).
type Uploader struct {
	cfg     *Config
	storage Storage
	p       Provider
	logger  *slog.Logger
	tmpDir  string

	mu         sync.Mutex
	lastIndex  uint64 // DB-applied index of the last upload (or stored one)
	lastTime   time.Time
	lastLength time.Duration

	cancel context.CancelFunc
	done   chan struct{}
}

// NewUploader returns an uploader of p's database to storage; tmpDir
// holds the backup file while it uploads ("" for the system's).
func NewUploader(cfg *Config, storage Storage, p Provider, tmpDir string, logger *slog.Logger) *Uploader {
	uploaderStats()
	if logger == nil {
		logger = slog.Default()
	}
	return &Uploader{cfg: cfg, storage: storage, p: p, tmpDir: tmpDir, logger: logger.With("component", "auto-backup")}
}

// Start runs the cycle until Stop: the first tick one interval from now.
func (u *Uploader) Start() {
	ctx, cancel := context.WithCancel(context.Background())
	u.cancel, u.done = cancel, make(chan struct{})
	go func() {
		defer close(u.done)
		t := time.NewTicker(u.cfg.Interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				u.Tick(ctx)
			}
		}
	}()
	u.logger.Info("automatic backups started", "destination", u.storage.String(), "interval", u.cfg.Interval)
}

// Stop ends the cycle and waits for an upload in progress.
func (u *Uploader) Stop() {
	if u.cancel == nil {
		return
	}
	u.cancel()
	<-u.done
}

// Tick runs one step of the cycle.
func (u *Uploader) Tick(ctx context.Context) {
	if !u.p.IsLeader() {
		return
	}
	li := u.p.DBAppliedIndex()
	u.mu.Lock()
	last := u.lastIndex
	u.mu.Unlock()
	if li <= last {
		uploaderStats().Add(numUploadsSkipped, 1)
		return
	}
	start := time.Now()
	path, size, err := u.writeBackup(ctx)
	if err != nil {
		uploaderStats().Add(numUploadsFail, 1)
		u.logger.Error("write backup", "error", err)
		return
	}
	defer os.Remove(path)
	id := strconv.FormatUint(li, 10)
	if last == 0 && u.storedIs(ctx, id) {
		// This node (or the previous leader) uploaded this very state.
		uploaderStats().Add(numUploadsSkippedID, 1)
		u.setLast(li, time.Time{}, 0)
		return
	}
	if err := u.upload(ctx, path, size, id, start); err != nil {
		uploaderStats().Add(numUploadsFail, 1)
		u.logger.Error("upload backup", "destination", u.storage.String(), "error", err)
		return
	}
	uploaderStats().Add(numUploadsOK, 1)
	uploaderStats().Add(totalUploadBytes, size)
	uploaderStats().Set(lastUploadBytes, intVar(size))
	u.setLast(li, start, time.Since(start))
	u.logger.Info("backup uploaded", "destination", u.storage.String(), "index", li, "bytes", size, "duration", time.Since(start))
}

// storedIs reports whether the storage already holds the backup with id.
func (u *Uploader) storedIs(ctx context.Context, id string) bool {
	stored, err := u.storage.CurrentID(ctx)
	if err != nil {
		if !errors.Is(err, ErrNoStoredID) {
			uploaderStats().Add(numSumGetFail, 1)
			u.logger.Warn("read stored backup ID", "error", err)
		}
		return false
	}
	return stored == id
}

func (u *Uploader) upload(ctx context.Context, path string, size int64, id string, at time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return u.storage.Upload(ctx, f, size, id, at)
}

func (u *Uploader) setLast(index uint64, at time.Time, took time.Duration) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lastIndex = index
	if !at.IsZero() {
		u.lastTime, u.lastLength = at, took
	}
}

// writeBackup writes the backup file (gzipped unless no_compress), trying
// a few times.
func (u *Uploader) writeBackup(ctx context.Context) (string, int64, error) {
	var err error
	for try := 0; try < backupTries; try++ {
		if try > 0 {
			select {
			case <-ctx.Done():
				return "", 0, ctx.Err()
			case <-time.After(backupRetryDelay):
			}
		}
		var path string
		var size int64
		if path, size, err = u.writeBackupOnce(ctx); err == nil {
			return path, size, nil
		}
	}
	return "", 0, err
}

func (u *Uploader) writeBackupOnce(ctx context.Context) (string, int64, error) {
	f, err := os.CreateTemp(u.tmpDir, "rdb-auto-backup-*")
	if err != nil {
		return "", 0, fmt.Errorf("backup temp file: %w", err)
	}
	fail := func(err error) (string, int64, error) {
		f.Close()
		os.Remove(f.Name())
		return "", 0, err
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if !u.cfg.NoCompress {
		zw = gzip.NewWriter(f)
		w = zw
	}
	if err := u.p.Backup(ctx, w, u.cfg.Vacuum); err != nil {
		return fail(fmt.Errorf("backup: %w", err))
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fail(fmt.Errorf("compress backup: %w", err))
		}
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return "", 0, err
	}
	return f.Name(), size, nil
}

// Status is the /status section auto_backups.
func (u *Uploader) Status() map[string]any {
	u.mu.Lock()
	defer u.mu.Unlock()
	st := map[string]any{
		"upload_destination": u.storage.String(),
		"upload_interval":    u.cfg.Interval.String(),
		"last_index":         strconv.FormatUint(u.lastIndex, 10),
	}
	if !u.lastTime.IsZero() {
		st["last_upload_time"] = u.lastTime.UTC().Format(time.RFC3339)
		st["last_upload_duration"] = u.lastLength.String()
	}
	return st
}

type intVar int64

func (v intVar) String() string { return strconv.FormatInt(int64(v), 10) }

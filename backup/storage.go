package backup

import (
	"context"
	"fmt"
	"io"
	"path"
	"strings"
	"time"
)

// Storage is where backups go: one object (or file) overwritten by each
// upload, or a new timestamped one per upload, plus the ID of the
// upload it holds.
type Storage interface {
	// Upload stores size bytes from r as the backup with this ID (the
	// decimal DB-applied index). at names a timestamped upload.
	Upload(ctx context.Context, r io.Reader, size int64, id string, at time.Time) error
	// CurrentID is the ID stored with the last upload to the plain
	// (untimestamped) name; ErrNoStoredID if there is none.
	CurrentID(ctx context.Context) (string, error)
	// String is the destination for /status (upload_destination).
	String() string
}

// Downloader fetches the backup a restore starts from.
type Downloader interface {
	Download(ctx context.Context, w io.Writer) error
	String() string
}

// timestamped puts the UTC time prefix YYYYMMDDHHMMSS_ on the last
// '/'-segment of name.
func timestamped(name string, at time.Time) string {
	dir, base := path.Split(name)
	return dir + at.UTC().Format("20060102150405") + "_" + base
}

// NewStorage returns the client for cfg's destination.
func NewStorage(cfg *Config) (Storage, error) {
	switch {
	case cfg.File != nil:
		return NewFileStorage(cfg.File, cfg.Timestamp)
	case cfg.S3 != nil:
		return NewS3Storage(cfg.S3, cfg.Timestamp)
	case cfg.GCS != nil:
		return NewGCSStorage(cfg.GCS, cfg.Timestamp)
	}
	return nil, ErrUnsupportedType
}

// NewDownloader returns the client for a restore's source.
func NewDownloader(cfg *RestoreConfig) (Downloader, error) {
	switch {
	case cfg.S3 != nil:
		return NewS3Storage(cfg.S3, false)
	case cfg.GCS != nil:
		return NewGCSStorage(cfg.GCS, false)
	}
	return nil, ErrUnsupportedType
}

// withScheme adds https:// to an endpoint without a scheme.
func withScheme(ep string) string {
	if ep == "" || strings.Contains(ep, "://") {
		return ep
	}
	return "https://" + ep
}

func wrapStorage(op, dest string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", op, dest, err)
}

package backup

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
)

// sqliteHeader starts every SQLite database file.
var sqliteHeader = []byte("SQLite format 3\x00")

// gzipMagic starts a gzip stream (with the deflate method).
var gzipMagic = []byte{0x1f, 0x8b, 0x08}

// Download fetches the restore source within cfg.Timeout into a temp file
// in dir, gunzipped if it was compressed, and checks it is a SQLite file.
// The caller owns (and removes) the returned file.
func Download(ctx context.Context, cfg *RestoreConfig, dl Downloader, dir string, logger *slog.Logger) (string, error) {
	downloaderStats()
	if logger == nil {
		logger = slog.Default()
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	raw, err := os.CreateTemp(dir, "rdb-auto-restore-raw-*")
	if err != nil {
		return "", fmt.Errorf("restore temp file: %w", err)
	}
	defer os.Remove(raw.Name())
	defer raw.Close()
	if err := dl.Download(ctx, raw); err != nil {
		downloaderStats().Add(numDownloadsFail, 1)
		return "", fmt.Errorf("download %s: %w", dl.String(), err)
	}
	n, _ := raw.Seek(0, io.SeekCurrent)
	downloaderStats().Add(numDownloadsOK, 1)
	downloaderStats().Add(downloadBytes, n)
	if _, err := raw.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	path, err := unpack(raw, dir)
	if err != nil {
		return "", fmt.Errorf("restore from %s: %w", dl.String(), err)
	}
	logger.Info("auto-restore downloaded", "source", dl.String(), "bytes", n)
	return path, nil
}

// unpack copies r to a new file in dir, gunzipping it if it starts with
// the gzip magic, and refuses anything that is not a SQLite file.
func unpack(r io.Reader, dir string) (string, error) {
	br := bufio.NewReader(r)
	var src io.Reader = br
	if head, _ := br.Peek(len(gzipMagic)); bytes.Equal(head, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return "", fmt.Errorf("gunzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	sr := bufio.NewReader(src)
	if head, _ := sr.Peek(len(sqliteHeader)); !bytes.Equal(head, sqliteHeader) {
		return "", ErrNotSQLite
	}
	out, err := os.CreateTemp(dir, "rdb-auto-restore-*.sqlite")
	if err != nil {
		return "", fmt.Errorf("restore temp file: %w", err)
	}
	if _, err := io.Copy(out, sr); err != nil {
		out.Close()
		os.Remove(out.Name())
		return "", fmt.Errorf("unpack: %w", err)
	}
	if err := out.Close(); err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}

package httpd

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// Backups is what /db/backup, /db/load, /boot, /snapshot and /reap need
// from the local node. *store.Store implements it. Calls that need the
// leader are forwarded by the handlers (as HTTP, streamed), not by the
// implementation.
type Backups interface {
	IsLeader() bool
	Backup(ctx context.Context, w io.Writer, format store.BackupFormat, tables []string) error
	Load(ctx context.Context, path string) error
	Boot(ctx context.Context, path string) error
	Snapshot(trailingLogs uint64) error
	Reap(ctx context.Context) (snapshotsReaped, walsCheckpointed int, err error)
}

var (
	// ErrInvalidBackupFormat refuses ?vacuum with a non-binary format.
	ErrInvalidBackupFormat = errors.New("invalid backup format")
	// ErrInvalidSQLiteData refuses a /boot body that is not a SQLite file.
	ErrInvalidSQLiteData = errors.New("invalid SQLite data")
	// errNoBackups means the node was built without a Backups.
	errNoBackups = errors.New("backup and restore not available")
	// errBodyTooShort refuses a /boot body shorter than minBootSize.
	errBodyTooShort = errors.New("body too short")
)

// sqliteMagic starts every SQLite database file (API.md §4).
const sqliteMagic = "SQLite format"

// minBootSize is the smallest /boot body accepted (API.md §4).
const minBootSize = 32

// SetBackups enables the backup, load, boot, snapshot and reap endpoints;
// call it before serving.
func (s *Service) SetBackups(b Backups) { s.backups = b }

// handleBackup serves GET /db/backup (API.md §4).
func (s *Service) handleBackup(c echo.Context) error {
	if s.backups == nil {
		return withStatus(http.StatusServiceUnavailable, errNoBackups)
	}
	p := paramsOf(c)
	q := c.Request().URL.Query()
	format := store.BackupBinary
	ctype := echo.MIMEOctetStream
	switch strings.ToLower(q.Get("fmt")) {
	case "sql":
		format, ctype = store.BackupSQL, "application/sql"
	case "delete":
		format = store.BackupDelete
	}
	if q.Has("vacuum") && format != store.BackupBinary {
		return withStatus(http.StatusInternalServerError, ErrInvalidBackupFormat)
	}
	if !p.noLeader && !s.backups.IsLeader() {
		return s.toLeader(c, p)
	}
	var tables []string
	if t := q.Get("tables"); t != "" {
		tables = strings.Split(t, ",")
	}
	c.Response().Header().Set(echo.HeaderContentType, ctype)
	var w io.Writer = c.Response()
	var gz *gzip.Writer
	if q.Has("compress") {
		gz = gzip.NewWriter(w)
		w = gz
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	if err := s.backups.Backup(ctx, w, format, tables); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			return fmt.Errorf("backup: compress: %w", err)
		}
	}
	if !c.Response().Committed {
		c.Response().WriteHeader(http.StatusOK) // an empty dump
	}
	s.lastBackup.Store(time.Now())
	return nil
}

// handleLoad serves POST /db/load: a SQLite file replaces the database on
// every node; any other body is SQL text run as one statement. rqlite sets
// no Content-Type on the SQL text reply, so Go's sniffing makes it
// text/plain; clients may depend on that, so the JSON goes out as such.
func (s *Service) handleLoad(c echo.Context) error {
	if s.backups == nil {
		return withStatus(http.StatusServiceUnavailable, errNoBackups)
	}
	p := paramsOf(c)
	if !s.backups.IsLeader() {
		return s.toLeader(c, p)
	}
	br := bufio.NewReader(c.Request().Body)
	head, _ := br.Peek(len(sqliteMagic))
	if !bytes.Equal(head, []byte(sqliteMagic)) {
		c.Request().Body = io.NopCloser(br)
		c.Set(mimeKey, echo.MIMETextPlainCharsetUTF8)
		b, err := s.readBody(c)
		if err != nil {
			return err
		}
		return s.run(c, p, s.db.Execute, []db.Statement{{SQL: string(b)}}, renderExecute)
	}
	path, err := spool(br, store.MaxLoadSize)
	if err != nil {
		return err
	}
	defer removeUpload(path)
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	if err := s.backups.Load(ctx, path); err != nil {
		return loadError(err)
	}
	return writeJSON(c, http.StatusOK, response{Results: []any{}, Time: p.elapsed(c)}, p.pretty)
}

// handleBoot serves POST /boot: a single-node leader takes the uploaded
// SQLite file as its database without going through the log. Never
// forwarded.
func (s *Service) handleBoot(c echo.Context) error {
	if s.backups == nil {
		return withStatus(http.StatusServiceUnavailable, errNoBackups)
	}
	p := paramsOf(c)
	br := bufio.NewReader(c.Request().Body)
	head, _ := br.Peek(minBootSize)
	if len(head) < minBootSize {
		return withStatus(http.StatusServiceUnavailable, errBodyTooShort)
	}
	if !bytes.HasPrefix(head, []byte(sqliteMagic)) {
		return withStatus(http.StatusBadRequest, ErrInvalidSQLiteData)
	}
	path, err := spool(br, -1)
	if err != nil {
		return err
	}
	defer removeUpload(path)
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	switch err := s.backups.Boot(ctx, path); {
	case err == nil:
		return c.NoContent(http.StatusOK)
	case errors.Is(err, store.ErrNotLeader), errors.Is(err, store.ErrNotSingleNode), errors.Is(err, store.ErrNotOpen):
		return withStatus(http.StatusServiceUnavailable, err)
	default:
		return loadError(err)
	}
}

// loadError maps a refused upload to 400 and leaves the rest to
// handleError.
func loadError(err error) error {
	switch {
	case errors.Is(err, db.ErrNotSQLite), errors.Is(err, db.ErrCorrupt):
		return &paramError{msg: err.Error()}
	case errors.Is(err, store.ErrLoadTooLarge):
		return ErrBodyTooLarge
	case errors.Is(err, store.ErrNotLeader), errors.Is(err, store.ErrLeaderNotFound), errors.Is(err, store.ErrNotOpen):
		return &dbError{err: err}
	}
	return fmt.Errorf("load: %w", err)
}

// removeUpload deletes a spooled upload and the files SQLite keeps beside
// a database it opened (checking an upload in WAL mode creates -wal and
// -shm files next to it).
func removeUpload(path string) {
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		os.Remove(path + suffix) // absent files are what we want
	}
}

// spool streams r into a new temporary file, at most limit bytes (no
// limit if negative), and returns its path.
func spool(r io.Reader, limit int64) (string, error) {
	f, err := os.CreateTemp("", "rdb-upload-*")
	if err != nil {
		return "", fmt.Errorf("upload temp file: %w", err)
	}
	if limit >= 0 {
		r = io.LimitReader(r, limit+1)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		os.Remove(f.Name())
		return "", &paramError{msg: "read request body: " + err.Error()}
	case limit >= 0 && n > limit:
		os.Remove(f.Name())
		return "", ErrBodyTooLarge
	}
	return f.Name(), nil
}

// toLeader sends a request that needs the leader there: 301 with
// ?redirect, otherwise the request is proxied to the leader's HTTP API,
// streamed both ways (credentials travel in the Authorization header).
func (s *Service) toLeader(c echo.Context, p *params) error {
	if p.redirect {
		return s.redirectToLeader(c, p)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	addr, err := s.cluster.LeaderAPIAddr(ctx)
	cancel()
	if err != nil {
		return &dbError{err: err}
	}
	target, err := url.Parse(addr)
	if err != nil {
		return fmt.Errorf("leader API address %q: %w", addr, err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	s.mu.Lock()
	rp.Transport = s.leaderTransport
	s.mu.Unlock()
	// The one status written outside errors.go: httputil calls this
	// handler inside ServeHTTP, where no error can be returned to echo.
	rp.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, err error) {
		s.logger.Warn("forward to leader", "leader", addr, "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, store.ErrLeaderNotFound.Error()+"\n")
	}
	rp.ServeHTTP(c.Response(), c.Request())
	return nil
}

// handleSnapshot serves POST /snapshot: 200 after a snapshot, 204 when
// there was nothing new to snapshot.
func (s *Service) handleSnapshot(c echo.Context) error {
	if s.backups == nil {
		return withStatus(http.StatusServiceUnavailable, errNoBackups)
	}
	stats.Add(numUserSnapshots, 1)
	p := paramsOf(c)
	trailing := uint64(0)
	if p.trailingLogs > 0 {
		trailing = uint64(p.trailingLogs)
	}
	switch err := s.backups.Snapshot(trailing); {
	case err == nil:
		return c.NoContent(http.StatusOK)
	case errors.Is(err, store.ErrNothingNewToSnapshot):
		return c.NoContent(http.StatusNoContent)
	default:
		return fmt.Errorf("snapshot: %w", err)
	}
}

// handleReap serves POST /reap.
func (s *Service) handleReap(c echo.Context) error {
	if s.backups == nil {
		return withStatus(http.StatusServiceUnavailable, errNoBackups)
	}
	stats.Add(numUserReaps, 1)
	p := paramsOf(c)
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	snaps, wals, err := s.backups.Reap(ctx)
	if err != nil {
		return fmt.Errorf("reap: %w", err)
	}
	return writeJSON(c, http.StatusOK, map[string]int{"snapshots_reaped": snaps, "wals_checkpointed": wals}, p.pretty)
}

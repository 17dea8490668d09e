package httpd

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// Checksummer is what GET /db/checksum needs; *store.Store implements
// it. The handler finds it on the Store it was given.
type Checksummer interface {
	// Checksum digests the local database at its current applied index.
	Checksum(ctx context.Context) (db.Checksum, error)
	// ChecksumAt returns the local digest at a checksum marker index.
	ChecksumAt(ctx context.Context, index uint64) (db.Checksum, error)
}

var (
	errNoChecksum = errors.New("checksum not available")
	errBadIndex   = errors.New("index must be a positive integer")
)

// handleChecksum serves GET /db/checksum: this node's digest of its
// database now, or with ?index=N its digest at the divergence check's
// marker N (which every node took at the same log index).
func (s *Service) handleChecksum(c echo.Context) error {
	cs, ok := s.store.(Checksummer)
	if !ok {
		return withStatus(http.StatusServiceUnavailable, errNoChecksum)
	}
	if !s.store.IsOpen() {
		return withStatus(http.StatusServiceUnavailable, store.ErrNotOpen)
	}
	p := paramsOf(c)
	ctx := c.Request().Context()
	var sum db.Checksum
	var err error
	if v := c.QueryParam("index"); v != "" {
		index, perr := strconv.ParseUint(v, 10, 64)
		if perr != nil || index == 0 {
			return withStatus(http.StatusBadRequest, errBadIndex)
		}
		// Only a digest already taken or being taken: never wait for a
		// marker that may not come.
		ctx, cancel := context.WithCancel(ctx)
		cancel()
		sum, err = cs.ChecksumAt(ctx, index)
		if errors.Is(err, context.Canceled) || errors.Is(err, store.ErrChecksumUnavailable) {
			return withStatus(http.StatusNotFound, store.ErrChecksumUnavailable)
		}
	} else {
		sum, err = cs.Checksum(ctx)
	}
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, map[string]any{
		"index": sum.Index, "term": sum.Term, "checksum": sum.Sum, "tables": sum.Tables, "rows": sum.Rows,
		"duration": sum.Duration.String(),
	}, p.pretty)
}

package httpd

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/labstack/echo/v4"
)

// Hrana serves libSQL's Hrana endpoints (package hrana). Streams live on
// the leader, so a node that does not lead forwards the whole request
// there (toLeader, with the caller's headers).
type Hrana interface {
	http.Handler
	// ServesLocally reports whether this node holds the streams.
	ServesLocally() bool
}

// hranaForwarded marks a Hrana request a follower forwarded: the node
// receiving it serves it even if it no longer leads (the statements then
// fail with "not leader"), so a request never bounces between nodes.
const hranaForwarded = "X-Rdb-Hrana-Forwarded"

// SetHrana enables /v2, /v2/pipeline, /v3, /v3/pipeline and /v3/cursor;
// call it before serving. Without it those paths answer 404.
func (s *Service) SetHrana(h Hrana) { s.hrana = h }

// handleHrana serves a Hrana path (its own authentication: Bearer tokens
// or Basic credentials, checked per statement).
func (s *Service) handleHrana(c echo.Context) error {
	if s.hrana == nil {
		return echo.ErrNotFound
	}
	r := c.Request()
	if !s.hrana.ServesLocally() && r.Header.Get(hranaForwarded) == "" {
		// Failures here are answered in Hrana's shape, never as the
		// rqlite API's 200 with "error": a libSQL client must see that
		// its stream is unusable.
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.DefaultTimeout)
		_, err := s.cluster.LeaderAPIAddr(ctx)
		cancel()
		if err != nil {
			msg := "no leader to serve the Hrana request: " + err.Error()
			b, _ := json.Marshal(map[string]string{"message": msg, "code": "PROXY_ERROR", "error": msg})
			c.Response().Header().Set(echo.HeaderContentType, "application/json") // exactly: the TS client compares it
			return c.Blob(http.StatusServiceUnavailable, "application/json", b)
		}
		r.Header.Set(hranaForwarded, "1")
		return s.toLeader(c, paramsOf(c))
	}
	s.hrana.ServeHTTP(c.Response(), r)
	return nil
}

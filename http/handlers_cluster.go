package httpd

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/store"
)

// errBadRemoveBody rejects a DELETE /remove body that is not exactly
// {"id":"…"}.
var errBadRemoveBody = errors.New(`body must be exactly {"id":"<node ID>"}`)

// clusterContext bounds a call by ?timeout and marks it for cluster: no
// forwarding when the client asked for ?redirect, and the client's
// Basic-auth credentials so a leader can re-check them.
func (s *Service) clusterContext(c echo.Context, p *params) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	if p.redirect {
		ctx = cluster.WithoutForwarding(ctx)
	}
	if user, pass, ok := c.Request().BasicAuth(); ok {
		ctx = cluster.WithCredentials(ctx, user, pass)
	}
	return ctx, cancel
}

// setServedBy sets X-RQLITE-SERVED-BY: this node's advertised HTTP address
// when it served the request, the leader's Raft address when it was
// forwarded (API.md §1.6, MUST-COPY asymmetry).
func (s *Service) setServedBy(c echo.Context, forwardedTo string) {
	servedBy := forwardedTo
	if servedBy == "" {
		servedBy = s.cfg.AdvAddr
	}
	if servedBy != "" {
		c.Response().Header().Set("X-RQLITE-SERVED-BY", servedBy)
	}
}

// handleRemove serves DELETE /remove with body {"id":"…"} (API.md §1.8).
func (s *Service) handleRemove(c echo.Context) error {
	p := paramsOf(c)
	b, err := s.readBody(c)
	if err != nil {
		return err
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil || len(m) != 1 || m["id"] == "" {
		return &paramError{msg: errBadRemoveBody.Error()}
	}
	ctx, cancel := s.clusterContext(c, p)
	defer cancel()
	servedBy, err := s.db.Remove(ctx, m["id"])
	if err != nil {
		return membershipError(p, err)
	}
	s.setServedBy(c, servedBy)
	return c.NoContent(http.StatusOK)
}

// handleStepdown serves POST /leader: transfer leadership to the node named
// by an optional {"id":"…"} body (read only with Content-Type exactly
// application/json), or to any node; ?wait blocks until it is done.
func (s *Service) handleStepdown(c echo.Context) error {
	p := paramsOf(c)
	var id string
	if c.Request().Header.Get("Content-Type") == "application/json" {
		b, err := s.readBody(c)
		if err != nil {
			return err
		}
		var body struct {
			ID string `json:"id"`
		}
		if len(b) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				return ErrInvalidJSON
			}
		}
		id = body.ID
	}
	ctx, cancel := s.clusterContext(c, p)
	defer cancel()
	servedBy, err := s.db.Stepdown(ctx, id, p.wait)
	if err != nil {
		return membershipError(p, err)
	}
	s.setServedBy(c, servedBy)
	return c.NoContent(http.StatusOK)
}

// membershipError maps a failed remove or stepdown: not-leader with
// ?redirect redirects as for data requests, a named node that does not
// exist is 404, targeting the current leader is 400, anything else goes
// to statusOf.
func membershipError(p *params, err error) error {
	switch {
	case errors.Is(err, store.ErrNotLeader) && p.redirect:
		return &dbError{err: err}
	case errors.Is(err, store.ErrNodeNotFound):
		return withStatus(http.StatusNotFound, err)
	case errors.Is(err, store.ErrStepdownSelf):
		return withStatus(http.StatusBadRequest, err)
	}
	return err
}

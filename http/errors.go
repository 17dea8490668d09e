package httpd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

var (
	// ErrInvalidJSON rejects a body that is not (complete) JSON.
	ErrInvalidJSON = errors.New("invalid JSON body")
	// ErrInvalidRequest rejects JSON that is not an array of statements.
	ErrInvalidRequest = errors.New("invalid request")
	// ErrNoStatements rejects an empty statement array.
	ErrNoStatements = errors.New("no statements")
	// ErrBodyTooLarge rejects a body over Config.MaxBodySize.
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrQueueWaitTimeout means a ?queue&wait request's batch was not
	// applied within the request timeout.
	ErrQueueWaitTimeout = errors.New("queue wait timeout")
	// ErrQueueClosed means the service is shutting down.
	ErrQueueClosed = errors.New("queue closed")
	// ErrQueueFull means the write queue stayed full for the whole
	// request timeout.
	ErrQueueFull = errors.New("queue full")
	// ErrInvalidQuery rejects a query string that cannot be parsed.
	ErrInvalidQuery = errors.New("invalid query string")

	// errInternal replaces the text of a recovered panic.
	errInternal = errors.New("internal server error")
)

// paramError is a §0 query-parameter validation failure; its text is the
// exact response body.
type paramError struct{ msg string }

func (e *paramError) Error() string { return e.msg }

// statusError is answered with its own status code and the wrapped
// error's text as a plain-text body. Handlers return it for the few
// statuses that follow from the request rather than from the error kind
// (a refused upload is 503 on /boot but 400 on /db/load).
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// withStatus makes err answer with code.
func withStatus(code int, err error) error { return &statusError{code: code, err: err} }

// dbError is a failure returned by a Database call. Most are reported as
// 200 with {"results":[],"error":…}; see handleError.
type dbError struct{ err error }

func (e *dbError) Error() string { return e.err.Error() }
func (e *dbError) Unwrap() error { return e.err }

// requestLevel lists the errors whose own text is the "error" field of a
// 200 response, whatever context they were wrapped in.
var requestLevel = []error{
	db.ErrDisallowedPragma, db.ErrDisallowedStatement, store.ErrStaleRead,
	store.ErrNotOpen, store.ErrNotReady, store.ErrApplyTimeout,
	store.ErrEnqueueTimeout, store.ErrNotLeader,
}

// statusOf maps an error that is not a dbError to a status code.
func statusOf(err error) int {
	var he *echo.HTTPError
	var se *statusError
	var pe *paramError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return se.code
	case errors.As(err, &he):
		return he.Code
	case errors.Is(err, cluster.ErrUnauthorized):
		return http.StatusUnauthorized
	case errors.As(err, &pe), errors.Is(err, ErrInvalidJSON), errors.Is(err, ErrInvalidRequest),
		errors.Is(err, ErrNoStatements), errors.Is(err, db.ErrUnsupportedType),
		errors.Is(err, ErrInvalidQuery):
		return http.StatusBadRequest
	case errors.As(err, &mbe), errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrQueueWaitTimeout):
		return http.StatusRequestTimeout
	case errors.Is(err, store.ErrLeaderNotFound), errors.Is(err, store.ErrNotOpen),
		errors.Is(err, store.ErrNotReady), errors.Is(err, ErrQueueClosed),
		errors.Is(err, ErrQueueFull):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// handleError is echo's HTTPErrorHandler: the one place errors become
// statuses and bodies. Handlers just return errors.
func (s *Service) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		s.logger.Debug("error after response was committed", "path", c.Request().URL.Path, "err", err)
		return
	}
	var de *dbError
	if errors.As(err, &de) {
		err = s.writeDBError(c, de.err)
	} else {
		err = s.writeError(c, err)
	}
	if err != nil {
		s.logger.Debug("write error response", "path", c.Request().URL.Path, "err", err)
	}
}

// writeError writes a non-database error: an empty body for routing
// errors, text otherwise.
func (s *Service) writeError(c echo.Context, err error) error {
	var se *statusError
	if errors.As(err, &se) {
		return writeText(c, se.code, se.err.Error())
	}
	code := statusOf(err)
	var he *echo.HTTPError
	if errors.As(err, &he) || code == http.StatusUnauthorized {
		return c.NoContent(code)
	}
	msg := err.Error()
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		msg = ErrBodyTooLarge.Error()
	case errors.Is(err, store.ErrLeaderNotFound):
		stats.Add(numLeaderNotFound, 1)
		msg = store.ErrLeaderNotFound.Error()
	case code == http.StatusInternalServerError:
		s.logger.Error("internal error", "method", c.Request().Method,
			"path", c.Request().URL.Path, "err", err)
	}
	return writeText(c, code, msg)
}

// writeDBError writes a failed Database call (API.md §1.5, §1.6):
// leader not found is 503, not-leader with ?redirect is a 301 to the
// leader, anything else is 200 with the error in the body.
func (s *Service) writeDBError(c echo.Context, err error) error {
	p := paramsOf(c)
	if errors.Is(err, cluster.ErrUnauthorized) {
		// The leader refused the credentials a follower forwarded.
		return c.NoContent(http.StatusUnauthorized)
	}
	if errors.Is(err, store.ErrLeaderNotFound) {
		stats.Add(numLeaderNotFound, 1)
		return writeText(c, http.StatusServiceUnavailable, store.ErrLeaderNotFound.Error())
	}
	if errors.Is(err, store.ErrNotLeader) && p.redirect {
		return s.redirectToLeader(c, p)
	}
	msg := err.Error()
	for _, e := range requestLevel {
		if errors.Is(err, e) {
			msg = e.Error()
			break
		}
	}
	s.logger.Debug("request failed", "path", c.Request().URL.Path, "err", err)
	resp := response{Results: []any{}, Error: msg, Time: p.elapsed(c)}
	return writeJSON(c, http.StatusOK, resp, p.pretty)
}

// redirectToLeader answers 301 with the leader's API URL, or 500 leader
// not found (MUST-COPY) when the leader is unknown.
func (s *Service) redirectToLeader(c echo.Context, p *params) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	addr, err := s.cluster.LeaderAPIAddr(ctx)
	if err != nil || addr == "" {
		s.logger.Debug("redirect: no leader API address", "err", err)
		return writeText(c, http.StatusInternalServerError, store.ErrLeaderNotFound.Error())
	}
	u := c.Request().URL
	return c.Redirect(http.StatusMovedPermanently, addr+u.Path+"?"+u.RawQuery)
}

// writeText writes a plain-text error body, newline-terminated like
// net/http's http.Error.
func writeText(c echo.Context, code int, msg string) error {
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(code, echo.MIMETextPlainCharsetUTF8, []byte(msg+"\n"))
}

// recoverPanics turns a panic anywhere in the chain into a logged 500,
// so a bug in one request never kills the process. (echo's own Recover
// middleware would pull in golang.org/x/time via its package.)
func (s *Service) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			r := recover()
			if r == nil {
				return
			}
			if r == http.ErrAbortHandler {
				panic(r)
			}
			s.logger.Error("panic serving request", "method", c.Request().Method,
				"path", c.Request().URL.Path, "panic", fmt.Sprint(r),
				slog.String("stack", string(debug.Stack())))
			err = errInternal
		}()
		return next(c)
	}
}

// elapsed is the request's run time in seconds when ?timings is set.
func (p *params) elapsed(c echo.Context) float64 {
	if !p.timings {
		return 0
	}
	start, ok := c.Get(ctxStart).(time.Time)
	if !ok {
		return 0
	}
	return time.Since(start).Seconds()
}

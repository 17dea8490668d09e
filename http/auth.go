package httpd

import (
	"github.com/labstack/echo/v4"
)

// numAuthFailures counts requests refused with 401.
const numAuthFailures = "auth_failures"

// authorize is the permission check of every route (API.md §6): with no
// Authorizer configured everything is allowed; otherwise a caller lacking
// p gets 401 with an empty body.
func (s *Service) authorize(c echo.Context, p string) error {
	if s.cfg.Auth == nil {
		return nil
	}
	user, pass, _ := c.Request().BasicAuth()
	if s.cfg.Auth.Authorized(user, pass, p) {
		return nil
	}
	stats.Add(numAuthFailures, 1)
	return echo.ErrUnauthorized
}

// authHeaders sets the headers API.md §0 requires on every response when
// authentication is enabled.
func (s *Service) authHeaders(c echo.Context) {
	if s.cfg.Auth == nil {
		return
	}
	h := c.Response().Header()
	h.Set("Access-Control-Allow-Headers", "Content-Type, Authorization")
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("WWW-Authenticate", `Basic realm="rqlite"`)
}

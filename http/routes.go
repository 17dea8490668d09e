package httpd

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/internal/auth"
)

// route is one API path: prefix routes also match any longer path
// (API.md §0), methods nil means any method.
type route struct {
	path    string
	prefix  bool
	perms   []string // auth.Perm… names
	methods []string
	handle  echo.HandlerFunc
}

func (s *Service) routeTable() []route {
	get, post, getPost := []string{http.MethodGet}, []string{http.MethodPost},
		[]string{http.MethodGet, http.MethodPost}
	del := []string{http.MethodDelete}
	return []route{
		{"/db/execute", true, []string{auth.PermExecute}, post, s.handleExecute},
		{"/db/query", true, []string{auth.PermQuery}, getPost, s.handleQuery},
		{"/db/request", true, []string{auth.PermQuery, auth.PermExecute}, post, s.handleRequest},
		{"/db/sql", true, []string{auth.PermQuery}, getPost, s.handleSQL},
		{"/status", true, []string{auth.PermStatus}, get, s.handleStatus},
		{"/nodes", true, []string{auth.PermStatus}, get, s.handleNodes},
		{"/leader", false, []string{auth.PermLeaderOps}, getPost, s.handleLeader},
		{"/remove", true, []string{auth.PermRemove}, del, s.handleRemove},
		{"/readyz", true, []string{auth.PermReady}, get, s.handleReadyz},
		{"/db/checksum", false, []string{auth.PermStatus}, get, s.handleChecksum},
		{"/db/backup", true, []string{auth.PermBackup}, get, s.handleBackup},
		{"/db/load", true, []string{auth.PermLoad}, post, s.handleLoad},
		{"/boot", true, []string{auth.PermLoad}, post, s.handleBoot},
		{"/snapshot", true, []string{auth.PermSnapshot}, post, s.handleSnapshot},
		{"/reap", true, []string{auth.PermSnapshot}, post, s.handleReap},
		{"/debug/vars", false, []string{auth.PermStatus}, nil, s.handleExpvar},
		{"/debug/pprof", true, []string{auth.PermStatus}, nil, s.handlePprof},
		// Hrana (libSQL clients): permissions checked per statement.
		{"/v2", false, nil, get, s.handleHrana},
		{"/v2/pipeline", false, nil, post, s.handleHrana},
		{"/v3", false, nil, get, s.handleHrana},
		{"/v3/pipeline", false, nil, post, s.handleHrana},
		{"/v3/cursor", false, nil, post, s.handleHrana},
		{"/metrics", false, s.metricsPerms(), get, s.handleMetrics},
		{"/console", true, []string{auth.PermUI}, []string{http.MethodGet, http.MethodHead}, s.handleConsole},
		{"/", false, nil, nil, s.handleRoot},
	}
}

// routes registers every route for every method echo knows, so that the
// permission check runs before the method check (401 beats 405).
func (s *Service) routes(e *echo.Echo) {
	for _, r := range s.routeTable() {
		path := r.path
		if r.prefix {
			path += "*"
		}
		e.Any(path, s.guard(r))
	}
}

// guard checks permissions, then the method, then runs the handler.
func (s *Service) guard(r route) echo.HandlerFunc {
	return func(c echo.Context) error {
		for _, p := range r.perms {
			if err := s.authorize(c, p); err != nil {
				return err
			}
		}
		if r.methods != nil && !slices.Contains(r.methods, c.Request().Method) {
			return echo.ErrMethodNotAllowed
		}
		return r.handle(c)
	}
}

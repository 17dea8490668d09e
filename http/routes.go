package httpd

import (
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"
)

// perm is a permission of API.md §6.
type perm string

const (
	permExecute perm = "execute"
	permQuery   perm = "query"
	permStatus  perm = "status"
	permReady   perm = "ready"
	permLeader  perm = "leader-ops"
	permRemove  perm = "remove"
)

// route is one API path: prefix routes also match any longer path
// (API.md §0), methods nil means any method.
type route struct {
	path    string
	prefix  bool
	perms   []perm
	methods []string
	handle  echo.HandlerFunc
}

func (s *Service) routeTable() []route {
	get, post, getPost := []string{http.MethodGet}, []string{http.MethodPost},
		[]string{http.MethodGet, http.MethodPost}
	del := []string{http.MethodDelete}
	return []route{
		{"/db/execute", true, []perm{permExecute}, post, s.handleExecute},
		{"/db/query", true, []perm{permQuery}, getPost, s.handleQuery},
		{"/db/request", true, []perm{permQuery, permExecute}, post, s.handleRequest},
		{"/db/sql", true, []perm{permQuery}, getPost, s.handleSQL},
		{"/status", true, []perm{permStatus}, get, s.handleStatus},
		{"/nodes", true, []perm{permStatus}, get, s.handleNodes},
		{"/leader", false, []perm{permLeader}, getPost, s.handleLeader},
		{"/remove", true, []perm{permRemove}, del, s.handleRemove},
		{"/readyz", true, []perm{permReady}, get, s.handleReadyz},
		{"/db/backup", true, []perm{permBackup}, get, s.handleBackup},
		{"/db/load", true, []perm{permLoad}, post, s.handleLoad},
		{"/boot", true, []perm{permLoad}, post, s.handleBoot},
		{"/snapshot", true, []perm{permSnapshot}, post, s.handleSnapshot},
		{"/reap", true, []perm{permSnapshot}, post, s.handleReap},
		{"/debug/vars", false, []perm{permStatus}, nil, s.handleExpvar},
		{"/debug/pprof", true, []perm{permStatus}, nil, s.handlePprof},
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

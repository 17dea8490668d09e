package httpd

import (
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/internal/auth"
)

// EndpointObserver is told about every request to one endpoint
// (metrics.Endpoint implements it). Observe runs on every request, so it
// must be cheap and safe for concurrent use.
type EndpointObserver interface {
	Observe(method string, code int, d time.Duration)
}

// otherEndpoint labels requests that match no route.
const otherEndpoint = "other"

// endpointObserver pairs a route path with its observer.
type endpointObserver struct {
	path   string
	prefix bool
	obs    EndpointObserver
}

// newObservers asks Config.ObserveEndpoint for an observer per route,
// and one for requests that match none; nil without ObserveEndpoint.
func (s *Service) newObservers() []endpointObserver {
	if s.cfg.ObserveEndpoint == nil {
		return nil
	}
	var out []endpointObserver
	for _, r := range s.routeTable() {
		out = append(out, endpointObserver{r.path, r.prefix, s.cfg.ObserveEndpoint(r.path)})
	}
	return append(out, endpointObserver{obs: s.cfg.ObserveEndpoint(otherEndpoint)})
}

// observerFor picks the observer of the route path belongs to, by the
// routing rules of routes.
func (s *Service) observerFor(path string) EndpointObserver {
	last := len(s.observers) - 1
	for _, o := range s.observers[:last] {
		if path == o.path || (o.prefix && strings.HasPrefix(path, o.path)) {
			return o.obs
		}
	}
	return s.observers[last].obs
}

// observeRequests is the outermost middleware when metrics are on: it
// renders a handler's error itself (as echo would right after it
// returns) so that the status code sent is known, then reports the
// request to its endpoint's observer.
func (s *Service) observeRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			s.handleError(err, c)
		}
		req := c.Request()
		s.observerFor(req.URL.Path).Observe(req.Method, c.Response().Status, time.Since(start))
		return nil
	}
}

// metricsPerms are the permissions GET /metrics needs: status, unless
// Config.MetricsOpen lets scrapers without credentials in.
func (s *Service) metricsPerms() []string {
	if s.cfg.MetricsOpen {
		return nil
	}
	return []string{auth.PermStatus}
}

// handleMetrics serves GET /metrics from Config.Metrics, 404 without it.
func (s *Service) handleMetrics(c echo.Context) error {
	if s.cfg.Metrics == nil {
		return echo.ErrNotFound
	}
	s.cfg.Metrics.ServeHTTP(c.Response(), c.Request())
	return nil
}

// QueuedWrites is the number of queued writes waiting to be batched
// (a metrics source).
func (s *Service) QueuedWrites() int { return len(s.queue.ch) }

package httpd

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// ErrTooManyRequests refuses a request that arrives while
// Config.MaxInFlight requests are already being served.
var ErrTooManyRequests = errors.New("too many requests in flight")

// numTooManyRequests counts requests refused by the in-flight bound.
const numTooManyRequests = "too_many_requests"

// limitInFlight bounds the requests served at once: one over the bound is
// answered at once with 503 and a text body, rather than queued, so a
// flood cannot pile up goroutines and memory behind a slow store.
func (s *Service) limitInFlight(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		select {
		case s.inFlight <- struct{}{}:
		default:
			stats.Add(numTooManyRequests, 1)
			return withStatus(http.StatusServiceUnavailable, ErrTooManyRequests)
		}
		defer func() { <-s.inFlight }()
		return next(c)
	}
}

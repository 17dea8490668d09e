package httpd

import (
	"context"
	"errors"
	"expvar"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/store"
)

// stats is the "http" expvar map (/debug/vars).
var stats = expvar.NewMap("http")

// Counter names in stats.
const (
	numExecutions       = "executions"
	numQueuedExecutions = "queued_executions"
	numQueries          = "queries"
	numRequests         = "requests"
	numStatus           = "status"
	numReadyz           = "readyz"
	numLeaderNotFound   = "leader_not_found"
	numUserSnapshots    = "user_snapshots"
	numUserReaps        = "user_reaps"
)

func init() {
	for _, k := range []string{numExecutions, numQueuedExecutions, numQueries, numRequests,
		numStatus, numReadyz, numLeaderNotFound, numUserSnapshots, numUserReaps} {
		stats.Add(k, 0)
	}
}

// Bodies of /readyz (API.md §1.9, MUST-COPY; no trailing newline).
const (
	readyNode     = "[+]node ok"
	readyNoLeader = readyNode + "\n[+]leader does not exist"
	readyLeader   = readyNode + "\n[+]leader ok"
	readyStore    = readyLeader + "\n[+]store ok"
)

// handleReadyz serves GET /readyz.
func (s *Service) handleReadyz(c echo.Context) error {
	stats.Add(numReadyz, 1)
	p := paramsOf(c)
	if p.noLeader {
		return readyText(c, http.StatusOK, readyNode)
	}
	if !s.store.IsOpen() || s.store.LeaderAddr() == "" {
		return readyText(c, http.StatusServiceUnavailable, readyNoLeader)
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), p.timeoutOr(s.cfg.DefaultTimeout))
	defer cancel()
	if _, err := s.cluster.LeaderAPIAddr(ctx); err != nil {
		if errors.Is(err, store.ErrLeaderNotFound) {
			return readyText(c, http.StatusServiceUnavailable, readyNoLeader)
		}
		return readyText(c, http.StatusServiceUnavailable, readyNode+"\n[+]leader not contactable: "+err.Error())
	}
	if !s.store.Ready() {
		return readyText(c, http.StatusServiceUnavailable, readyLeader+"\n[+]store not ready")
	}
	body := readyStore
	if p.sync {
		if err := s.store.WaitForSync(ctx); err != nil {
			return readyText(c, http.StatusServiceUnavailable, body+"\n[+]sync "+err.Error())
		}
		body += "\n[+]sync ok"
	}
	if err := s.store.Ping(ctx); err != nil {
		return readyText(c, http.StatusServiceUnavailable, body+"\n[+]db not ok: "+err.Error())
	}
	return readyText(c, http.StatusOK, body+"\n[+]db ok")
}

func readyText(c echo.Context, code int, body string) error {
	return c.Blob(code, echo.MIMETextPlainCharsetUTF8, []byte(body))
}

// handleExpvar serves /debug/vars in expvar's own format, optionally
// restricted to one variable with ?key=.
func (s *Service) handleExpvar(c echo.Context) error {
	key := paramsOf(c).key
	var b strings.Builder
	b.WriteString("{\n")
	first := true
	expvar.Do(func(kv expvar.KeyValue) {
		if key != "" && kv.Key != key {
			return
		}
		if !first {
			b.WriteString(",\n")
		}
		first = false
		fmt.Fprintf(&b, "%q: %s", kv.Key, kv.Value)
	})
	b.WriteString("\n}\n")
	return c.Blob(http.StatusOK, mimeJSON, []byte(b.String()))
}

// handlePprof serves /debug/pprof/… with net/http/pprof.
func (s *Service) handlePprof(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, "/debug/pprof")
	name = strings.TrimPrefix(name, "/")
	h := pprof.Index
	switch name {
	case "cmdline":
		h = pprof.Cmdline
	case "profile":
		h = pprof.Profile
	case "symbol":
		h = pprof.Symbol
	case "trace":
		h = pprof.Trace
	}
	h(c.Response(), c.Request())
	return nil
}

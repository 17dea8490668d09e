package httpd

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// dbCall is one of Database's three methods.
type dbCall func(ctx context.Context, req *store.Request) (store.Response, error)

// handleExecute serves POST /db/execute (API.md §1.3, §3.3).
func (s *Service) handleExecute(c echo.Context) error {
	p := paramsOf(c)
	if p.queue {
		stats.Add(numQueuedExecutions, 1)
		return s.queuedExecute(c, p)
	}
	stats.Add(numExecutions, 1)
	stmts, err := s.readStatements(c, true)
	if err != nil {
		return err
	}
	return s.run(c, p, s.db.Execute, stmts, renderExecute)
}

// handleQuery serves GET /db/query?q=… and POST /db/query.
func (s *Service) handleQuery(c echo.Context) error {
	stats.Add(numQueries, 1)
	p := paramsOf(c)
	var stmts []db.Statement
	if c.Request().Method == http.MethodGet {
		if !p.hasQ {
			return writeJSON(c, http.StatusOK, response{Results: []any{}}, p.pretty)
		}
		stmts = []db.Statement{{SQL: p.q}}
	} else {
		var err error
		if stmts, err = s.readStatements(c, true); err != nil {
			return err
		}
	}
	return s.run(c, p, s.db.Query, stmts, renderQuery)
}

// handleRequest serves POST /db/request.
func (s *Service) handleRequest(c echo.Context) error {
	stats.Add(numRequests, 1)
	stmts, err := s.readStatements(c, false)
	if err != nil {
		return err
	}
	return s.run(c, paramsOf(c), s.db.Request, stmts, renderExecute)
}

// run calls the Database with the request's parameters and renders the
// outcome.
func (s *Service) run(c echo.Context, p *params, call dbCall, stmts []db.Statement, mode renderMode) error {
	ctx, cancel := s.clusterContext(c, p)
	defer cancel()
	resp, err := call(ctx, s.storeRequest(p, stmts))
	if err != nil {
		return &dbError{err: err}
	}
	s.setServedBy(c, resp.ServedBy)
	r := renderer{associative: p.associative, blobArray: p.blobArray, mode: mode}
	out := response{Results: r.results(resp.Results), Time: p.elapsed(c)}
	if p.raftIndex {
		out.RaftIndex = resp.RaftIndex
	}
	return writeJSON(c, http.StatusOK, out, p.pretty)
}

// storeRequest maps the §1.2 parameters onto a store.Request.
func (s *Service) storeRequest(p *params, stmts []db.Statement) *store.Request {
	lt := p.linearizableTimeout
	if lt <= 0 {
		lt = s.cfg.LinearizableTimeout
	}
	return &store.Request{
		Request: db.Request{
			Statements:  stmts,
			Transaction: p.transaction,
			Timeout:     p.dbTimeout,
			NoRandom:    p.noRWRandom,
			NoTime:      p.noRWTime,
			NoParse:     p.noParse,
			Timings:     p.timings,
		},
		Level:               p.level,
		Freshness:           p.freshness,
		FreshnessStrict:     p.freshnessStrict,
		LinearizableTimeout: lt,
	}
}

// readStatements reads the body: with Content-Type text/plain (where
// allowed) the whole body is one statement, otherwise a JSON array.
func (s *Service) readStatements(c echo.Context, plainOK bool) ([]db.Statement, error) {
	b, err := s.readBody(c)
	if err != nil {
		return nil, err
	}
	if plainOK && isPlainText(c.Request().Header.Get("Content-Type")) {
		if len(b) == 0 {
			return nil, ErrNoStatements
		}
		return []db.Statement{{SQL: string(b)}}, nil
	}
	return parseStatements(b)
}

// readBody reads the whole body, at most Config.MaxBodySize bytes.
func (s *Service) readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	body := http.MaxBytesReader(c.Response(), r.Body, s.cfg.MaxBodySize)
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, ErrBodyTooLarge
		}
		return nil, &paramError{"read request body: " + err.Error()}
	}
	return b, nil
}

func isPlainText(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return strings.HasPrefix(strings.ToLower(contentType), "text/plain")
	}
	return mt == "text/plain"
}

// sqlResult is one entry of /db/sql.
type sqlResult struct {
	Original  string `json:"original"`
	Rewritten string `json:"rewritten,omitempty"`
	Error     string `json:"error,omitempty"`
}

// handleSQL serves /db/sql: each statement rewritten, not executed
// (API.md §1.8).
func (s *Service) handleSQL(c echo.Context) error {
	p := paramsOf(c)
	var stmts []db.Statement
	if c.Request().Method == http.MethodGet {
		if p.hasQ {
			stmts = []db.Statement{{SQL: p.q}}
		}
	} else {
		var err error
		if stmts, err = s.readStatements(c, true); err != nil {
			return err
		}
	}
	results := make([]any, 0, len(stmts))
	for _, st := range stmts {
		rw, err := s.rewrite(st.SQL, p.noRWRandom, p.noRWTime)
		if err != nil {
			results = append(results, sqlResult{Original: st.SQL, Error: err.Error()})
			continue
		}
		results = append(results, sqlResult{Original: st.SQL, Rewritten: rw})
	}
	return writeJSON(c, http.StatusOK, response{Results: results, Time: p.elapsed(c)}, p.pretty)
}

package hrana

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/internal/auth"
	"github.com/rdb/rdb/store"
)

// Database runs statements outside transactions (cluster.Proxy: local
// when this node leads, else forwarded).
type Database interface {
	Request(ctx context.Context, req *store.Request) (store.Response, error)
}

// Store is the local node's store: transactions, and what the
// endpoints need to know about statements.
type Store interface {
	IsLeader() bool
	Begin(ctx context.Context) (*store.Tx, error)
	BeginRead(ctx context.Context) (*db.ReadTx, error)
	ReadOnly(ctx context.Context, stmts []db.Statement) (bool, error)
	Describe(ctx context.Context, sql string) (db.Description, error)
	TxStats() map[string]any
}

// Authorizer checks a caller's permission (API.md §6): Basic credentials
// as on /db/*, or a Bearer token that the -auth file maps to a user.
// *auth.CredentialStore implements it.
type Authorizer interface {
	Authorized(username, password, perm string) bool
	AuthorizedToken(token, perm string) bool
}

// Config configures a Server.
type Config struct {
	// IdleTimeout expires a stream (rolling back its transaction) that
	// long after its last response (sqld: 10 s).
	IdleTimeout time.Duration
	// KeepExpired is how long an expired stream's baton is answered
	// with STREAM_EXPIRED rather than "invalid baton".
	KeepExpired time.Duration
	// MaxStreams bounds open streams; more get 503.
	MaxStreams int
	// MaxBodySize bounds a pipeline's body.
	MaxBodySize int64
	// Timeout bounds one pipeline.
	Timeout time.Duration
	// Auth, when set, checks permissions; nil allows everything.
	Auth Authorizer
	// Logger receives the server's messages; nil discards them.
	Logger *slog.Logger
}

// DefaultConfig returns sqld's stream timings.
func DefaultConfig() Config {
	return Config{IdleTimeout: 10 * time.Second, KeepExpired: 300 * time.Second,
		MaxStreams: 100000, MaxBodySize: 64 << 20, Timeout: 60 * time.Second}
}

// Server serves the Hrana endpoints. It is an http.Handler for the
// paths /v2, /v2/pipeline, /v3, /v3/pipeline and /v3/cursor.
type Server struct {
	cfg     Config
	db      Database
	store   Store
	streams *streams
	logger  *slog.Logger
}

// New returns a Server; Close ends its streams.
func New(cfg Config, database Database, st Store) (*Server, error) {
	if database == nil || st == nil {
		return nil, errors.New("hrana: nil Database or Store")
	}
	d := DefaultConfig()
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = d.IdleTimeout
	}
	if cfg.KeepExpired <= 0 {
		cfg.KeepExpired = d.KeepExpired
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = d.MaxStreams
	}
	if cfg.MaxBodySize <= 0 {
		cfg.MaxBodySize = d.MaxBodySize
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = d.Timeout
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, db: database, store: st, logger: logger.With("component", "hrana"),
		streams: newStreams(cfg.IdleTimeout, cfg.KeepExpired, cfg.MaxStreams)}
	publish(s)
	return s, nil
}

// Close rolls back every open transaction and ends every stream.
func (s *Server) Close() { s.streams.closeAll() }

// ServesLocally reports whether new streams are opened here (this node
// leads); package http forwards other requests to the leader unless Owns
// them.
func (s *Server) ServesLocally() bool { return s.store.IsLeader() }

// Owns reports whether r is a pipeline or cursor request naming the baton
// of a stream this node holds (opened while it led): such a stream is
// answered here, so that after a leader change its client learns that its
// transaction is gone (STREAM_EXPIRED) and a stream without one goes on.
// It reads r's body and puts it back.
func (s *Server) Owns(r *http.Request) bool {
	if r.Method != http.MethodPost || r.Body == nil {
		return false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodySize+1))
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return false
	}
	var head struct {
		Baton *string `json:"baton"`
	}
	if json.Unmarshal(body, &head) != nil || head.Baton == nil {
		return false
	}
	return s.streams.has(*head.Baton)
}

// StreamCounts returns the streams open now, opened and expired since
// start (for metrics).
func (s *Server) StreamCounts() (open int, opened, expired uint64) {
	return s.streams.counts()
}

// Stats is the "hrana" section of /status: streams and transactions.
func (s *Server) Stats() map[string]any {
	m := s.streams.stats()
	m["transactions"] = s.store.TxStats()
	return m
}

// ServeHTTP routes the Hrana paths.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimSuffix(r.URL.Path, "/")
	switch path {
	case "/v2", "/v3":
		if r.Method != http.MethodGet {
			writeError(w, &httpError{status: http.StatusMethodNotAllowed, message: "method not allowed", code: codeProtocol})
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "Hello, this is rdb's Hrana endpoint\n")
	case "/v2/pipeline", "/v3/pipeline":
		if !s.checkPost(w, r) {
			return
		}
		s.servePipeline(w, r, path == "/v3/pipeline")
	case "/v3/cursor":
		if !s.checkPost(w, r) {
			return
		}
		s.serveCursor(w, r)
	case "/v1/execute", "/v1/batch":
		if !s.checkPost(w, r) {
			return
		}
		s.serveV1(w, r, path == "/v1/batch")
	default:
		writeError(w, &httpError{status: http.StatusNotFound, message: "not found", code: codeProtocol})
	}
}

func (s *Server) checkPost(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		writeError(w, &httpError{status: http.StatusMethodNotAllowed, message: "method not allowed", code: codeProtocol})
		return false
	}
	return true
}

// caller is who sent a request, for permission checks.
type caller struct {
	auth              Authorizer
	token, user, pass string
}

// admit identifies the caller and refuses one that may neither query nor
// execute, answering 401.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (caller, bool) {
	c := s.caller(r)
	if !c.may(auth.PermQuery) && !c.may(auth.PermExecute) {
		writeError(w, &httpError{status: http.StatusUnauthorized, message: "unauthorized", code: codeUnauthorized})
		return c, false
	}
	return c, true
}

func (s *Server) caller(r *http.Request) caller {
	c := caller{auth: s.cfg.Auth}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		c.token = strings.TrimSpace(h[7:])
	} else {
		c.user, c.pass, _ = r.BasicAuth()
	}
	return c
}

func (c caller) may(perm string) bool {
	if c.auth == nil {
		return true
	}
	if c.token != "" {
		return c.auth.AuthorizedToken(c.token, perm)
	}
	return c.auth.Authorized(c.user, c.pass, perm)
}

// decodeBody reads a JSON body of at most the configured size.
func (s *Server) decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.MaxBodySize+1))
	if err != nil {
		return &httpError{status: http.StatusBadRequest, message: "read body: " + err.Error(), code: codeProtocol}
	}
	if int64(len(body)) > s.cfg.MaxBodySize {
		return &httpError{status: http.StatusRequestEntityTooLarge, message: "request body too large", code: codeProtocol}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return protocolError("malformed request body: " + err.Error())
	}
	return nil
}

// servePipeline runs POST /v2/pipeline and /v3/pipeline.
func (s *Server) servePipeline(w http.ResponseWriter, r *http.Request, v3 bool) {
	c, ok := s.admit(w, r)
	if !ok {
		return
	}
	var req pipelineRequest
	if err := s.decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	st, err := s.stream(req.Baton)
	if err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	ex := &executor{s: s, st: st, c: c, v3: v3}
	resp := pipelineResponse{Results: make([]streamResult, 0, len(req.Requests))}
	for _, rq := range req.Requests {
		res, err := ex.handle(ctx, rq)
		if err != nil {
			s.streams.drop(st, err.Error())
			st.mu.Unlock()
			writeError(w, err)
			return
		}
		resp.Results = append(resp.Results, res)
	}
	resp.Baton = s.finish(st)
	writeJSON(w, resp)
}

// stream opens a stream (no baton) or finds baton's, locked; a stream
// whose transaction died gets its HTTP error now.
func (s *Server) stream(baton *string) (*stream, error) {
	if baton == nil {
		return s.streams.open()
	}
	st, err := s.streams.take(*baton)
	if err != nil {
		return nil, err
	}
	if st.dead == nil && st.tx != nil && st.tx.Err() != nil {
		st.dead = st.tx.Err()
	}
	if st.dead == nil && st.tx != nil && !s.store.IsLeader() {
		st.dead = fmt.Errorf("%w: leadership lost", store.ErrTxAborted)
	}
	if st.dead != nil {
		why := st.dead.Error()
		s.streams.drop(st, why)
		st.mu.Unlock()
		return nil, &httpError{status: http.StatusInternalServerError, message: why, code: codeStreamExpired}
	}
	return st, nil
}

// finish ends a pipeline: a closed stream is dropped (baton null), an
// open one gets its next baton. It unlocks st.
func (s *Server) finish(st *stream) *string {
	if st.closed {
		s.streams.drop(st, "the stream was closed")
		st.mu.Unlock()
		return nil
	}
	b := s.streams.renew(st)
	return &b
}

// serveCursor runs POST /v3/cursor: one batch, answered as
// newline-delimited JSON entries (HRANA.md §10).
func (s *Server) serveCursor(w http.ResponseWriter, r *http.Request) {
	c, ok := s.admit(w, r)
	if !ok {
		return
	}
	var req struct {
		Baton *string `json:"baton"`
		Batch *batch  `json:"batch"`
	}
	if err := s.decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Batch == nil {
		writeError(w, protocolError("cursor request without a batch"))
		return
	}
	st, err := s.stream(req.Baton)
	if err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	ex := &executor{s: s, st: st, c: c, v3: true}
	res, herr := ex.batch(ctx, req.Batch)
	if herr != nil {
		s.streams.drop(st, herr.Error())
		st.mu.Unlock()
		writeError(w, herr)
		return
	}
	baton := s.finish(st)
	w.Header().Set("Content-Type", "text/plain")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	enc.Encode(map[string]any{"baton": baton, "base_url": nil})
	for i := range req.Batch.Steps {
		if e := res.StepErrors[i]; e != nil {
			enc.Encode(map[string]any{"type": "step_error", "step": i, "error": e})
			continue
		}
		sr := res.StepResults[i]
		if sr == nil {
			continue // skipped
		}
		enc.Encode(map[string]any{"type": "step_begin", "step": i, "cols": sr.Cols})
		for _, row := range sr.Rows {
			enc.Encode(map[string]any{"type": "row", "row": row})
		}
		enc.Encode(map[string]any{"type": "step_end", "affected_row_count": sr.AffectedRowCount, "last_insert_rowid": sr.LastInsertRowid})
	}
}

// writeJSON answers 200 with exactly "application/json" (the TS client
// compares the content type as a string).
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, fmt.Errorf("encode response: %w", err))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// writeError answers a failed pipeline: {"message","code","error"}, the
// shape both the TS and the Go client read (HRANA.md §2).
func writeError(w http.ResponseWriter, err error) {
	he := &httpError{}
	if !errors.As(err, &he) {
		he = &httpError{status: http.StatusInternalServerError, message: err.Error()}
	}
	b, _ := json.Marshal(map[string]string{"message": he.message, "code": he.code, "error": he.message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(he.status)
	w.Write(b)
}

// serveV1 runs POST /v1/execute ({"stmt"} -> {"result": StmtResult}) and
// /v1/batch ({"batch"} -> {"result": BatchResult}), each on a stream of its
// own that ends with the request (libsql-client-py's HTTP mode). A failed
// statement of /v1/execute is an HTTP 400 with the Error.
func (s *Server) serveV1(w http.ResponseWriter, r *http.Request, isBatch bool) {
	c, ok := s.admit(w, r)
	if !ok {
		return
	}
	var req struct {
		Stmt  *stmt  `json:"stmt"`
		Batch *batch `json:"batch"`
	}
	if err := s.decodeBody(r, &req); err != nil {
		writeError(w, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.Timeout)
	defer cancel()
	st := &stream{sqls: map[int32]string{}}
	defer st.endTx() // a batch that left a transaction open rolls it back
	ex := &executor{s: s, st: st, c: c}
	if isBatch {
		if req.Batch == nil {
			writeError(w, protocolError("batch request without batch"))
			return
		}
		res, err := ex.batch(ctx, req.Batch)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, map[string]any{"result": res})
		return
	}
	if req.Stmt == nil {
		writeError(w, protocolError("execute request without stmt"))
		return
	}
	res, perr, err := ex.execute(ctx, req.Stmt)
	switch {
	case err != nil:
		writeError(w, err)
	case perr != nil:
		writeError(w, &httpError{status: http.StatusBadRequest, message: perr.Message, code: perr.Code})
	default:
		writeJSON(w, map[string]any{"result": res})
	}
}

package httpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/db"
)

// Service is the HTTP API of one node.
type Service struct {
	cfg     Config
	db      Database
	store   Store
	cluster Cluster
	logger  *slog.Logger

	// rewrite shows SQL rewriting for /db/sql; db.Rewrite, replaced in
	// tests.
	rewrite func(sql string, noRandom, noTime bool) (string, error)

	start time.Time
	echo  *echo.Echo
	queue *queue
	// inFlight holds a token per request being served (MaxInFlight).
	inFlight chan struct{}
	// backups serves the backup/load/boot/snapshot/reap endpoints; nil
	// until SetBackups.
	backups Backups
	// hrana serves the Hrana endpoints; nil until SetHrana.
	hrana Hrana
	// leaderTransport carries requests proxied to the leader's API; with
	// HTTPS it trusts -http-ca-cert and presents this node's certificate.
	// nil means http.DefaultTransport.
	leaderTransport http.RoundTripper
	// lastBackup is when this node last served a backup (a time.Time),
	// for /status's last_backup_time.
	lastBackup atomic.Value
	// observers report requests to metrics, one per route and a last
	// one for the rest; nil when metrics are off.
	observers []endpointObserver

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	served chan struct{} // closed when srv.Serve returns
	closed bool
}

// New builds a Service and starts its write-queue batcher; it does not
// listen until Start or Serve. Close releases it.
func New(cfg Config, database Database, st Store, cl Cluster, logger *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("http config: %w", err)
	}
	if database == nil || st == nil || cl == nil {
		return nil, errors.New("httpd: nil Database, Store or Cluster")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		cfg: cfg, db: database, store: st, cluster: cl,
		logger:   logger.With("component", "http"),
		rewrite:  db.Rewrite,
		start:    time.Now(),
		inFlight: make(chan struct{}, cfg.MaxInFlight),
	}
	s.queue = newQueue(queueConfig{
		capacity: cfg.QueueCapacity, batchSize: cfg.QueueBatchSize,
		timeout: cfg.QueueTimeout, tx: cfg.QueueTx,
		retryInterval: cfg.QueueRetryInterval, execTimeout: cfg.DefaultTimeout,
		firstSeq: s.start.UnixNano(),
	}, database, s.logger)
	s.observers = s.newObservers()
	s.echo = s.newEcho()
	return s, nil
}

func (s *Service) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.HTTPErrorHandler = s.handleError
	if s.observers != nil {
		e.Pre(s.observeRequests)
	}
	e.Pre(s.recoverPanics, s.preRoute, s.limitInFlight)
	s.routes(e)
	return e
}

// preRoute runs before routing on every request (API.md §0): common
// headers, OPTIONS short-cut, then query-parameter validation.
func (s *Service) preRoute(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(ctxStart, time.Now())
		h := c.Response().Header()
		h.Set("X-RQLITE-VERSION", s.cfg.version())
		h.Set("Access-Control-Allow-Methods", "OPTIONS, GET, POST")
		h.Set("Access-Control-Allow-Headers", "Content-Type")
		if s.cfg.AllowOrigin != "" {
			h.Set("Access-Control-Allow-Origin", s.cfg.AllowOrigin)
		}
		s.authHeaders(c)
		if c.Request().Method == http.MethodOptions {
			return c.NoContent(http.StatusOK)
		}
		p, err := parseParams(c.Request().URL.RawQuery)
		if err != nil {
			return err
		}
		c.Set(ctxParams, p)
		return next(c)
	}
}

// Start listens on Config.Addr and serves in the background.
func (s *Service) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	if err := s.Serve(ln); err != nil {
		return errors.Join(err, ln.Close())
	}
	return nil
}

// Serve serves on ln in the background; Close stops it.
func (s *Service) Serve(ln net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("httpd: service closed")
	}
	if s.srv != nil {
		return errors.New("httpd: already serving")
	}
	ln, err := s.wrapTLS(ln)
	if err != nil {
		return err
	}
	s.ln = ln
	s.srv = &http.Server{
		Handler:           s.echo,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		MaxHeaderBytes:    s.cfg.MaxHeaderBytes,
		IdleTimeout:       s.cfg.IdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelDebug),
	}
	s.served = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("http server stopped", "addr", ln.Addr().String(), "err", err)
		}
	}(s.srv, s.served)
	s.logger.Info("serving HTTP", "addr", ln.Addr().String(), "tls", s.cfg.TLS.Enabled())
	return nil
}

// Addr is the address the service listens on, nil before Start/Serve.
func (s *Service) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// Close stops accepting connections, waits (until ctx ends) for requests
// in flight, then stops the write queue after a last flush.
func (s *Service) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	srv, served := s.srv, s.served
	s.mu.Unlock()

	var errs []error
	if srv != nil {
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("shut down http server: %w", err), srv.Close())
		}
		<-served
	}
	if err := s.queue.close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop write queue: %w", err))
	}
	return errors.Join(errs...)
}

// handler is the service's http.Handler (for tests with httptest).
func (s *Service) handler() http.Handler { return s.echo }

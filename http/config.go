package httpd

import (
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/rdb/rdb/internal/auth"
)

// Config configures a Service. cmd/rdb fills it from flags; the package
// never reads flags or the environment itself.
type Config struct {
	// Addr is the address to listen on (-http-addr).
	Addr string
	// AdvAddr is the advertised host:port (-http-adv-addr); it is sent in
	// X-RQLITE-SERVED-BY when this node served a request itself.
	AdvAddr string
	// RaftAdvAddr and HTTPS feed the "cluster" section of /status.
	RaftAdvAddr string
	HTTPS       bool

	// Version is sent as X-RQLITE-VERSION ("unknown" if empty) and shown
	// in /status build, together with the other build fields.
	Version           string
	Commit            string
	Branch            string
	BuildTime         string
	CompilerToolchain string
	CompilerCommand   string

	// AllowOrigin, if set, is sent as Access-Control-Allow-Origin.
	AllowOrigin string
	// MaxBodySize bounds request bodies; larger ones get 413.
	MaxBodySize int64

	// DefaultTimeout applies when a request has no ?timeout.
	DefaultTimeout time.Duration
	// LinearizableTimeout applies when a query has no
	// ?linearizable_timeout.
	LinearizableTimeout time.Duration
	// ReadHeaderTimeout and IdleTimeout configure the HTTP server.
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration

	// Queue configures the queued-write batcher (API.md §3.3).
	QueueCapacity  int
	QueueBatchSize int
	QueueTimeout   time.Duration
	QueueTx        bool
	// QueueRetryInterval is the pause between attempts to apply a batch
	// that failed for a transient reason (no leader, not ready…).
	QueueRetryInterval time.Duration

	// Reporters add top-level sections to /status (e.g. "network",
	// "mux", "extensions"); a reporter named like a built-in section
	// replaces it. They are called on every /status request and must be
	// safe for concurrent use.
	Reporters map[string]func() (map[string]any, error)

	// Auth, when set, checks every route's permissions (-auth, API.md
	// §6); nil allows everything.
	Auth auth.Authorizer
	// TLS serves HTTPS when CertFile and KeyFile are set (see TLSConfig).
	TLS TLSConfig

	// ReadTimeout bounds reading a whole request, body included, and
	// WriteTimeout the time from the end of the request headers to the end
	// of the response; MaxHeaderBytes bounds the request line plus headers
	// (larger get 431).
	ReadTimeout    time.Duration
	WriteTimeout   time.Duration
	MaxHeaderBytes int
	// MaxInFlight bounds the requests served at once; more get 503.
	MaxInFlight int

	// Metrics, if set, serves GET /metrics (metrics.Registry); it needs
	// the status permission unless MetricsOpen (-metrics-no-auth).
	Metrics     http.Handler
	MetricsOpen bool
	// ObserveEndpoint, if set, is called once per route path (and once
	// with "other" for requests matching none) at New; the observers it
	// returns are told about every request.
	ObserveEndpoint func(name string) EndpointObserver
}

// DefaultConfig returns rqlite's defaults.
func DefaultConfig() Config {
	return Config{
		Addr:                "localhost:4001",
		CompilerToolchain:   runtime.Compiler,
		MaxBodySize:         64 << 20,
		DefaultTimeout:      30 * time.Second,
		LinearizableTimeout: 10 * time.Second,
		ReadHeaderTimeout:   10 * time.Second,
		IdleTimeout:         120 * time.Second,
		QueueCapacity:       1024,
		QueueBatchSize:      128,
		QueueTimeout:        50 * time.Millisecond,
		QueueRetryInterval:  time.Second,
		ReadTimeout:         5 * time.Minute,
		WriteTimeout:        5 * time.Minute,
		MaxHeaderBytes:      64 << 10,
		MaxInFlight:         1024,
	}
}

// Validate reports a Config that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("httpd: empty listen address"))
	}
	positive := []struct {
		name string
		v    int64
	}{
		{"max body size", c.MaxBodySize},
		{"default timeout", int64(c.DefaultTimeout)},
		{"linearizable timeout", int64(c.LinearizableTimeout)},
		{"read header timeout", int64(c.ReadHeaderTimeout)},
		{"idle timeout", int64(c.IdleTimeout)},
		{"write queue capacity", int64(c.QueueCapacity)},
		{"write queue batch size", int64(c.QueueBatchSize)},
		{"write queue timeout", int64(c.QueueTimeout)},
		{"write queue retry interval", int64(c.QueueRetryInterval)},
		{"read timeout", int64(c.ReadTimeout)},
		{"write timeout", int64(c.WriteTimeout)},
		{"max header bytes", int64(c.MaxHeaderBytes)},
		{"max in-flight requests", int64(c.MaxInFlight)},
	}
	for _, p := range positive {
		if p.v <= 0 {
			errs = append(errs, fmt.Errorf("httpd: %s must be positive, got %d", p.name, p.v))
		}
	}
	if err := c.TLS.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (c Config) version() string {
	if c.Version == "" {
		return "unknown"
	}
	return c.Version
}

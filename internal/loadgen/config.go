package loadgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Kinds of workload.
const (
	KindWrite = "write" // one single-row INSERT per request
	KindBulk  = "bulk"  // Config.Batch single-row INSERTs per request
	KindRead  = "read"  // one point SELECT by primary key per request
	KindMixed = "mixed" // a read with probability Config.ReadRatio, else a write
)

// Levels are the read consistency levels a read workload may use.
var Levels = []string{"none", "weak", "linearizable", "strong"}

// Limits keep every run bounded in time and memory (one latency sample of
// 8 bytes is kept per successful request).
const (
	MaxRequests    = 10_000_000
	MaxDuration    = 24 * time.Hour
	MaxConcurrency = 4096
	MaxBatch       = 100_000
	MaxRows        = 10_000_000
)

// Workload is one named load shape.
type Workload struct {
	Kind  string // KindWrite, KindBulk, KindRead or KindMixed
	Level string // read consistency level for KindRead and KindMixed
}

// Name is how the workload is reported: write, bulk, read-<level> or
// mixed-<level>.
func (w Workload) Name() string {
	if w.Kind == KindRead || w.Kind == KindMixed {
		return w.Kind + "-" + w.Level
	}
	return w.Kind
}

// reads reports whether the workload needs preloaded rows.
func (w Workload) reads() bool { return w.Kind == KindRead || w.Kind == KindMixed }

// Config is one `rdb bench` run.
type Config struct {
	// URLs are base URLs such as http://127.0.0.1:4001; requests go to them
	// round-robin. Credentials in a URL are sent as Basic auth.
	URLs []string
	// Workloads run in order, each with its own bounds.
	Workloads []Workload
	// Concurrency is the number of clients, each with one request in flight.
	Concurrency int
	// Requests and Duration bound each workload; the first reached ends it.
	Requests int
	Duration time.Duration
	// Timeout bounds one request.
	Timeout time.Duration
	// Batch is the number of rows per bulk request.
	Batch int
	// Rows is the number of rows preloaded for read and mixed workloads.
	Rows int
	// ReadRatio is the share of reads in the mixed workload, 0 to 1.
	ReadRatio float64
	// Table is created if missing and dropped afterwards unless Keep.
	Table string
	Keep  bool
	// User and Password, if User is set, are sent as Basic auth.
	User, Password string
	// TLS configures https URLs; nil uses the system roots.
	TLS *tls.Config
	// Progress receives a live line rewritten with \r; nil for none.
	Progress         io.Writer
	ProgressInterval time.Duration
	// Seed makes the payloads and the read keys reproducible.
	Seed uint64
}

// DefaultConfig is a short write run against a local node.
func DefaultConfig() Config {
	return Config{
		URLs:             []string{"http://127.0.0.1:4001"},
		Workloads:        []Workload{{Kind: KindWrite}},
		Concurrency:      16,
		Requests:         10_000,
		Duration:         30 * time.Second,
		Timeout:          30 * time.Second,
		Batch:            1000,
		Rows:             10_000,
		ReadRatio:        0.9,
		Table:            "rdb_bench",
		ProgressInterval: 250 * time.Millisecond,
		Seed:             1,
	}
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports the first setting that cannot work.
func (c Config) Validate() error {
	if err := validateURLs(c.URLs); err != nil {
		return err
	}
	if len(c.Workloads) == 0 {
		return errors.New("no workload")
	}
	for _, w := range c.Workloads {
		if err := w.validate(); err != nil {
			return err
		}
	}
	checks := []struct {
		ok  bool
		msg string
	}{
		{c.Concurrency >= 1 && c.Concurrency <= MaxConcurrency, fmt.Sprintf("concurrency must be 1 to %d", MaxConcurrency)},
		{c.Requests >= 1 && c.Requests <= MaxRequests, fmt.Sprintf("requests must be 1 to %d", MaxRequests)},
		{c.Duration > 0 && c.Duration <= MaxDuration, fmt.Sprintf("duration must be above 0 and at most %s", MaxDuration)},
		{c.Timeout > 0, "timeout must be above 0"},
		{c.Batch >= 1 && c.Batch <= MaxBatch, fmt.Sprintf("batch must be 1 to %d", MaxBatch)},
		{c.Rows >= 1 && c.Rows <= MaxRows, fmt.Sprintf("rows must be 1 to %d", MaxRows)},
		{c.ReadRatio >= 0 && c.ReadRatio <= 1, "read ratio must be 0 to 1"},
		{tableName.MatchString(c.Table), "table must be a plain SQL identifier"},
		{c.Progress == nil || c.ProgressInterval > 0, "progress interval must be above 0"},
	}
	for _, ch := range checks {
		if !ch.ok {
			return errors.New(ch.msg)
		}
	}
	return nil
}

func validateURLs(urls []string) error {
	if len(urls) == 0 {
		return errors.New("no URL")
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil {
			return fmt.Errorf("URL %q: %w", s, err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("URL %q: want http://host:port or https://host:port", s)
		}
	}
	return nil
}

func (w Workload) validate() error {
	switch w.Kind {
	case KindWrite, KindBulk:
		return nil
	case KindRead, KindMixed:
		if !slices.Contains(Levels, w.Level) {
			return fmt.Errorf("workload %s: level %q is not one of %s", w.Kind, w.Level, strings.Join(Levels, ", "))
		}
		return nil
	}
	return fmt.Errorf("unknown workload %q", w.Kind)
}

// ParseWorkloads reads a comma-separated list of workload names: write,
// bulk, read, mixed (these two at level), read-<level>, mixed-<level>, or
// all (write, bulk, a read at every level, mixed).
func ParseWorkloads(list, level string) ([]Workload, error) {
	var out []Workload
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if name == "all" {
			out = append(out, Workload{Kind: KindWrite}, Workload{Kind: KindBulk})
			for _, l := range Levels {
				out = append(out, Workload{Kind: KindRead, Level: l})
			}
			out = append(out, Workload{Kind: KindMixed, Level: level})
			continue
		}
		kind, lvl, found := strings.Cut(name, "-")
		if !found {
			lvl = level
		}
		w := Workload{Kind: kind}
		if w.reads() {
			w.Level = lvl
		} else if found {
			return nil, fmt.Errorf("unknown workload %q", name)
		}
		if err := w.validate(); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	if len(out) == 0 {
		return nil, errors.New("no workload")
	}
	return out, nil
}

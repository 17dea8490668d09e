package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/mattn/go-isatty"

	"github.com/rdb/rdb/internal/loadgen"
	"github.com/rdb/rdb/internal/tlsconf"
)

const benchUsage = `Usage: %s [flags]

Load generator for rdb and any rqlite-compatible cluster. Closed loop:
each client sends one request, waits for the answer, sends the next.
Requests go round-robin to the URLs (followers forward writes to the
leader, as they do for any client).

  -u, --url URL[,URL]       base URL of a node; repeat or comma-separate for
                            several (default http://127.0.0.1:4001)
  -w, --workload LIST       comma-separated, run in order (default write):
                              write   one single-row INSERT per request
                              bulk    --batch single-row INSERTs per request
                              read    one point SELECT by primary key at --level
                              read-none, read-weak, read-linearizable, read-strong
                              mixed   reads at --level (share --read-ratio), else writes
                              mixed-<level>
                              all     write, bulk, read at every level, mixed
  -l, --level LEVEL         read level for read and mixed: none, weak,
                            linearizable, strong (default weak)
  -c, --concurrency N       concurrent clients (default 16)
  -n, --requests N          requests per workload, at most (default 10000)
  -d, --duration DUR        time per workload, at most (default 30s);
                            whichever of -n and -d is reached first ends it
  -t, --timeout DUR         timeout of one request (default 30s)
      --batch N             rows per bulk request (default 1000)
      --rows N              rows preloaded for read and mixed (default 10000)
      --read-ratio F        share of reads in mixed, 0 to 1 (default 0.9)
      --table NAME          table used, created if missing (default rdb_bench)
      --keep                keep the table afterwards (dropped by default)
      --json                print the result as JSON instead of a table
      --progress MODE       live progress line on stderr: auto (when stdout
                            and stderr are both terminals), always, never
      --user USER:PASS      HTTP Basic auth credentials
      --ca-cert FILE        trusted CA certificate (PEM) for https URLs
      --client-cert FILE    client certificate (PEM) for mutual TLS
      --client-key FILE     its key (PEM)
      --insecure            do not verify the nodes' TLS certificates
      --seed N              seed of payloads and read keys (default 1)
  -h, --help                this text

A request fails when it cannot be sent, the status is not 200, or the
reply carries an error (top-level or in any results[i].error). Latency
percentiles are nearest-rank over the successful requests. The exit
status is 1 when a URL is unreachable or not rqlite-compatible, or when
every request of some workload failed; 2 for bad flags. Ctrl-C stops the
run and prints what was measured so far.
`

// benchFlags are the flags of `rdb bench` not held in loadgen.Config.
type benchFlags struct {
	urls              urlList
	workloads, level  string
	user, caCert      string
	clientCert        string
	clientKey         string
	progress          string
	jsonOut, insecure bool
}

// urlList is a repeatable, comma-separated flag; host:port means
// http://host:port.
type urlList []string

func (u *urlList) String() string { return strings.Join(*u, ",") }

func (u *urlList) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s != "" && !strings.Contains(s, "://") {
			s = "http://" + s
		}
		if s != "" {
			*u = append(*u, s)
		}
	}
	return nil
}

// newBenchFlagSet registers the flags under their short and long names.
func newBenchFlagSet(name string, cfg *loadgen.Config, f *benchFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(stderr, benchUsage, name) }
	fs.Var(&f.urls, "u", "")
	fs.Var(&f.urls, "url", "")
	for _, n := range []string{"w", "workload"} {
		fs.StringVar(&f.workloads, n, "write", "")
	}
	for _, n := range []string{"l", "level"} {
		fs.StringVar(&f.level, n, "weak", "")
	}
	for _, n := range []string{"c", "concurrency"} {
		fs.IntVar(&cfg.Concurrency, n, cfg.Concurrency, "")
	}
	for _, n := range []string{"n", "requests"} {
		fs.IntVar(&cfg.Requests, n, cfg.Requests, "")
	}
	for _, n := range []string{"d", "duration"} {
		fs.DurationVar(&cfg.Duration, n, cfg.Duration, "")
	}
	for _, n := range []string{"t", "timeout"} {
		fs.DurationVar(&cfg.Timeout, n, cfg.Timeout, "")
	}
	fs.IntVar(&cfg.Batch, "batch", cfg.Batch, "")
	fs.IntVar(&cfg.Rows, "rows", cfg.Rows, "")
	fs.Float64Var(&cfg.ReadRatio, "read-ratio", cfg.ReadRatio, "")
	fs.StringVar(&cfg.Table, "table", cfg.Table, "")
	fs.BoolVar(&cfg.Keep, "keep", false, "")
	fs.BoolVar(&f.jsonOut, "json", false, "")
	fs.StringVar(&f.progress, "progress", "auto", "")
	fs.StringVar(&f.user, "user", "", "")
	fs.StringVar(&f.caCert, "ca-cert", "", "")
	fs.StringVar(&f.clientCert, "client-cert", "", "")
	fs.StringVar(&f.clientKey, "client-key", "", "")
	fs.BoolVar(&f.insecure, "insecure", false, "")
	fs.Uint64Var(&cfg.Seed, "seed", cfg.Seed, "")
	return fs
}

// parseBenchFlags turns the command line into a loadgen.Config (its
// Progress still unset) and the output choices.
func parseBenchFlags(name string, args []string, stderr io.Writer) (loadgen.Config, benchFlags, error) {
	cfg := loadgen.DefaultConfig()
	var f benchFlags
	fs := newBenchFlagSet(name, &cfg, &f, stderr)
	if err := fs.Parse(args); err != nil {
		return cfg, f, err
	}
	if fs.NArg() > 0 {
		return cfg, f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if len(f.urls) > 0 {
		cfg.URLs = f.urls
	}
	w, err := loadgen.ParseWorkloads(f.workloads, f.level)
	if err != nil {
		return cfg, f, err
	}
	cfg.Workloads = w
	if f.user != "" {
		cfg.User, cfg.Password, _ = strings.Cut(f.user, ":")
	}
	if cfg.TLS, err = benchTLS(f); err != nil {
		return cfg, f, err
	}
	switch f.progress {
	case "auto", "always", "never":
	default:
		return cfg, f, fmt.Errorf("--progress %q: want auto, always or never", f.progress)
	}
	return cfg, f, cfg.Validate()
}

// benchTLS is the client TLS configuration for https URLs; nil when no
// TLS flag is given.
func benchTLS(f benchFlags) (*tls.Config, error) {
	if f.caCert == "" && f.clientCert == "" && f.clientKey == "" && !f.insecure {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: f.insecure}
	if f.caCert != "" {
		pool, err := tlsconf.LoadCertPool(f.caCert)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	if (f.clientCert == "") != (f.clientKey == "") {
		return nil, errors.New("--client-cert and --client-key go together")
	}
	if f.clientCert != "" {
		cert, err := tls.LoadX509KeyPair(f.clientCert, f.clientKey)
		if err != nil {
			return nil, fmt.Errorf("load client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// progressWriter is where the live line goes: stderr, when mode is
// always, or auto with stdout and stderr both terminals; else nowhere.
func progressWriter(mode string, stdout, stderr io.Writer) io.Writer {
	if mode == "always" || mode == "auto" && isTerminal(stdout) && isTerminal(stderr) {
		return stderr
	}
	return nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// benchMain is `rdb bench`.
func benchMain(name string, args []string, stdout, stderr io.Writer) int {
	cfg, f, err := parseBenchFlags(name, args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	cfg.Progress = progressWriter(f.progress, stdout, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := loadgen.Run(ctx, cfg)
	if rep != nil {
		if werr := writeReport(rep, f.jsonOut, stdout); werr != nil {
			fmt.Fprintf(stderr, "%s: %v\n", name, werr)
			return 1
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func writeReport(rep *loadgen.Report, jsonOut bool, w io.Writer) error {
	if jsonOut {
		return rep.WriteJSON(w)
	}
	return rep.WriteTable(w)
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rdb/rdb/shell"
)

// shellFlags are the rqlite shell's flags (API.md §7) plus -bail.
type shellFlags struct {
	host, scheme, prefix, user    string
	caCert, clientCert, clientKey string
	alternatives, timeout         string
	port                          int
	insecure, version, bail       bool
	lineMode                      bool
}

const shellUsage = `Usage: %s [flags] [SQL or .command ...]

The interactive client for rdb and rqlite. With arguments, runs them in
order and exits (one-shot mode); otherwise reads statements from the
terminal or from a pipe.

  -H, --host HOST            node host address (default 127.0.0.1)
  -p, --port PORT            node port (default 4001)
  -s, --scheme SCHEME        http or https (default http)
  -P, --prefix PATH          HTTP URL prefix (default /)
  -a, --alternatives LIST    comma-separated host:port fail-over nodes
  -u, --user USER:PASS       HTTP Basic auth credentials
  -i, --insecure             do not verify the node's TLS certificate
  -c, --ca-cert FILE         trusted X.509 root CA certificate (PEM)
  -d, --client-cert FILE     client X.509 certificate for mutual TLS
  -k, --client-key FILE      client X.509 key for mutual TLS
  -t, --http-timeout DUR     HTTP timeout, e.g. 30s (default 30s)
      --bail                 stop at the first statement or command that fails
                             and exit 1
      --line-mode            every input line is one statement, no ';' needed
                             (the default when invoked as rqlite)
  -v, --version              print the version
  -h, --help                 this text

A statement or command that fails prints "Error: ..." or "ERR! ..." on
stdout and the shell goes on; as with rqlite's shell, the exit status is
then still 0 (for piped input too). With --bail the shell stops at the first
failure and exits 1. In one-shot mode any failure makes the exit status 1.
The exit status is 1 when the node cannot be reached.

RQLITE_HOST=[scheme://]host[:port] sets the node when -H, -p and -s are not
given. Interactive history is kept in ~/.rdb_history.
`

// newShellFlagSet registers every flag under its short and long name.
func newShellFlagSet(name string, f *shellFlags, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	str := func(p *string, short, long, def, usage string) {
		fs.StringVar(p, short, def, usage)
		fs.StringVar(p, long, def, usage)
	}
	str(&f.host, "H", "host", "127.0.0.1", "node host address")
	fs.IntVar(&f.port, "p", 4001, "node port")
	fs.IntVar(&f.port, "port", 4001, "node port")
	str(&f.scheme, "s", "scheme", "http", "protocol scheme (http or https)")
	str(&f.prefix, "P", "prefix", "/", "HTTP URL prefix")
	str(&f.user, "u", "user", "", "set basic auth credentials in form username:password")
	str(&f.caCert, "c", "ca-cert", "", "path to trusted X.509 root CA certificate")
	str(&f.clientCert, "d", "client-cert", "", "path to client X.509 certificate for mutual TLS")
	str(&f.clientKey, "k", "client-key", "", "path to client X.509 key for mutual TLS")
	str(&f.alternatives, "a", "alternatives", "", "comma separated list of 'host:port' pairs to use as fallback")
	str(&f.timeout, "t", "http-timeout", "30s", "HTTP timeout when communicating with the node")
	for _, n := range []string{"i", "insecure"} {
		fs.BoolVar(&f.insecure, n, false, "do not verify the node's TLS certificate")
	}
	for _, n := range []string{"v", "version"} {
		fs.BoolVar(&f.version, n, false, "display CLI version")
	}
	fs.BoolVar(&f.bail, "bail", false, "stop at the first statement or command that fails, and exit 1")
	fs.BoolVar(&f.lineMode, "line-mode", false, "every input line is one statement (no `;` needed); the default when invoked as rqlite")
	fs.Usage = func() { fmt.Fprintf(stderr, shellUsage, name) }
	return fs
}

// parseShellFlags turns the command line and environment into a
// shell.Config. version is true for -v.
func parseShellFlags(name string, args []string, getenv func(string) string, stderr io.Writer) (shell.Config, bool, error) {
	var f shellFlags
	fs := newShellFlagSet(name, &f, stderr)
	if err := fs.Parse(args); err != nil {
		return shell.Config{}, false, err
	}
	if f.version {
		return shell.Config{}, true, nil
	}
	explicit := false
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "H", "host", "p", "port", "s", "scheme":
			explicit = true
		}
	})
	cfg := shell.DefaultConfig()
	host := net.JoinHostPort(f.host, strconv.Itoa(f.port))
	scheme := f.scheme
	if env := getenv("RQLITE_HOST"); env != "" && !explicit {
		scheme, host = parseHostEnv(env, scheme)
	}
	cc := &cfg.Client
	cc.Addrs, cc.Scheme, cc.Prefix = []string{host}, scheme, f.prefix
	for _, alt := range strings.Split(f.alternatives, ",") {
		if alt = strings.TrimSpace(alt); alt != "" {
			cc.Addrs = append(cc.Addrs, alt)
		}
	}
	if f.user != "" {
		cc.User, cc.Password, _ = strings.Cut(f.user, ":")
	}
	cc.Insecure, cc.CACert, cc.ClientCert, cc.ClientKey = f.insecure, f.caCert, f.clientCert, f.clientKey
	t, err := parseTimeout(f.timeout)
	if err != nil {
		return shell.Config{}, false, err
	}
	cc.Timeout = t
	cfg.Bail = f.bail
	// rqlite's shell sends each line as it is; scripts written for it
	// often leave out the `;`.
	cfg.LineMode = f.lineMode || filepath.Base(name) == "rqlite"
	if args := fs.Args(); len(args) > 0 {
		cfg.Commands = args
	}
	if home := getenv("HOME"); home != "" {
		cfg.HistoryFile = filepath.Join(home, ".rdb_history")
	}
	return cfg, false, cfg.Validate()
}

// parseHostEnv reads RQLITE_HOST=[scheme://]host[:port].
func parseHostEnv(v, scheme string) (string, string) {
	if s, rest, ok := strings.Cut(v, "://"); ok {
		scheme, v = s, rest
	}
	v = strings.TrimRight(v, "/")
	if _, _, err := net.SplitHostPort(v); err != nil {
		v = net.JoinHostPort(v, "4001")
	}
	return scheme, v
}

// parseTimeout accepts a Go duration or a number of seconds.
func parseTimeout(s string) (time.Duration, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid -t/--http-timeout %q: use a duration such as 30s", s)
	}
	return d, nil
}

// runShell is `rdb shell` / `rqlite`.
func runShell(name string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, version, err := parseShellFlags(name, args, os.Getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, err)
		return 2
	}
	if version {
		fmt.Fprintln(stdout, versionString())
		return 0
	}
	return shell.Run(context.Background(), cfg, stdin, stdout, stderr)
}

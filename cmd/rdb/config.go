package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"
	"time"
)

// Config is everything `rdb serve` takes from its command line. Flag names
// and defaults are rqlited's (API.md §5.1) so existing deployments and
// scripts move over unchanged.
type Config struct {
	DataPath string

	NodeID      string
	HTTPAddr    string
	HTTPAdvAddr string
	RaftAddr    string
	RaftAdvAddr string

	JoinAddrs              string
	JoinAttempts           int
	JoinInterval           time.Duration
	JoinAs                 string
	BootstrapExpect        int
	BootstrapExpectTimeout time.Duration

	RaftNonVoter              bool
	RaftSnapThreshold         uint64
	RaftSnapInterval          time.Duration
	RaftSnapWALSize           uint64
	RaftClusterRemoveShutdown bool
	RaftShutdownStepdown      bool
	RaftRemoveShutdown        bool
	RaftLogLevel              string
	RaftHeartbeatTimeout      time.Duration
	RaftElectionTimeout       time.Duration
	RaftCommitTimeout         time.Duration
	RaftApplyTimeout          time.Duration
	RaftLeaderLeaseTimeout    time.Duration
	RaftReapNodeTimeout       time.Duration
	RaftReapReadOnlyTimeout   time.Duration

	// Interactive transactions (Hrana): TxBusyTimeout, TxIdleTimeout.
	TxBusyTimeout time.Duration
	TxIdleTimeout time.Duration

	AuthFile             string
	HTTPCert             string
	HTTPKey              string
	HTTPCACert           string
	HTTPVerifyClient     bool
	HTTPVerifyCommonName string
	HTTPNoVerify         bool
	NodeCert             string
	NodeKey              string
	NodeCACert           string
	NodeNoVerify         bool
	NodeVerifyClient     bool
	NodeVerifyServerName string
	NodeVerifyCommonName string
	HTTPAllowOrigin      string
	HTTPMaxBodySize      int64
	MetricsNoAuth        bool
	OTLP                 otlpFlags

	FKConstraints       bool
	WriteQueueCap       int
	WriteQueueBatchSize int
	WriteQueueTimeout   time.Duration
	WriteQueueTx        bool
	DBMaxReadConns      int
	DBMaxResultSize     int64
	ClusterConnectTime  time.Duration

	AutoVacuumInterval    time.Duration
	AutoOptimizeInterval  time.Duration
	CompressSnapTransport bool
	ExtensionsPath        string
	AutoBackupFile        string
	AutoRestoreFile       string
	CDCConfig             string
	DiscoMode             string
	DiscoKey              string
	DiscoConfig           string
	CPUProfile            string
	MemProfile            string
	TraceProfile          string

	ShowVersion bool

	// reapSet and reapReadOnlySet say whether the reap timeouts were
	// given on the command line (an explicit 0 is refused).
	reapSet, reapReadOnlySet bool
	// DivergenceCheckInterval and DivergenceCheckTimeout drive the
	// leader's replica checksum comparison (rdb only).
	DivergenceCheckInterval time.Duration
	DivergenceCheckTimeout  time.Duration
	// ops holds the -auto-backup, -auto-restore and -cdc-config files,
	// read by validate (ops.go).
	ops opsConfig
}

// notYet marks flags that are accepted for compatibility but whose feature
// has not landed. Those that would silently change the meaning of a
// deployment (clustering, security) make the node refuse to start when set,
// rather than run unprotected or as a lone cluster; the rest are ignored with
// a warning.
const notYet = " (accepted; not implemented yet)"

// newFlagSet registers every flag on a new FlagSet writing into cfg.
func newFlagSet(name string, cfg *Config, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)

	fs.StringVar(&cfg.NodeID, "node-id", "", "Unique ID for node. If not set, set to advertised Raft address")
	fs.StringVar(&cfg.HTTPAddr, "http-addr", "localhost:4001", "HTTP server bind address")
	fs.StringVar(&cfg.HTTPAdvAddr, "http-adv-addr", "", "Advertised HTTP address. If not set, same as HTTP server bind address")
	fs.StringVar(&cfg.RaftAddr, "raft-addr", "localhost:4002", "Raft communication bind address")
	fs.StringVar(&cfg.RaftAdvAddr, "raft-adv-addr", "", "Advertised Raft communication address. If not set, same as Raft bind address")

	fs.StringVar(&cfg.JoinAddrs, "join", "", "Comma-delimited list of Raft addresses to use for a join attempt")
	fs.IntVar(&cfg.JoinAttempts, "join-attempts", 5, "Number of join attempts to make")
	fs.DurationVar(&cfg.JoinInterval, "join-interval", 3*time.Second, "Period between join attempts")
	fs.StringVar(&cfg.JoinAs, "join-as", "", "Username in authentication file to join as")
	fs.IntVar(&cfg.BootstrapExpect, "bootstrap-expect", 0, "Minimum number of nodes required for a bootstrap")
	fs.DurationVar(&cfg.BootstrapExpectTimeout, "bootstrap-expect-timeout", 120*time.Second, "Maximum time for bootstrap process")

	fs.BoolVar(&cfg.RaftNonVoter, "raft-non-voter", false, "Configure as non-voting node")
	fs.Uint64Var(&cfg.RaftSnapThreshold, "raft-snap", 8192, "Number of outstanding log entries which triggers Raft snapshot")
	fs.DurationVar(&cfg.RaftSnapInterval, "raft-snap-int", 10*time.Second, "Snapshot threshold check interval")
	fs.Uint64Var(&cfg.RaftSnapWALSize, "raft-snap-wal-size", 4*1024*1024, "SQLite WAL file size in bytes which triggers Raft snapshot. Set to 0 to disable")
	fs.BoolVar(&cfg.RaftClusterRemoveShutdown, "raft-cluster-remove-shutdown", false, "Node removes itself from cluster on graceful shutdown")
	fs.BoolVar(&cfg.RaftShutdownStepdown, "raft-shutdown-stepdown", true, "If leader, stepdown before shutting down. Enabled by default")
	fs.BoolVar(&cfg.RaftRemoveShutdown, "raft-remove-shutdown", false, "Shutdown Raft if node removed from cluster"+notYet)
	fs.StringVar(&cfg.RaftLogLevel, "raft-log-level", "WARN", "Minimum log level for Raft module (ERROR, WARN, INFO, DEBUG)")
	fs.DurationVar(&cfg.RaftHeartbeatTimeout, "raft-heartbeat-timeout", time.Second, "Raft heartbeat timeout")
	fs.DurationVar(&cfg.RaftHeartbeatTimeout, "raft-timeout", time.Second, "Alias of -raft-heartbeat-timeout (rqlite v9)")
	fs.DurationVar(&cfg.RaftElectionTimeout, "raft-election-timeout", time.Second, "Raft election timeout")
	fs.DurationVar(&cfg.RaftCommitTimeout, "raft-commit-timeout", 50*time.Millisecond, "Raft commit timeout")
	fs.DurationVar(&cfg.RaftApplyTimeout, "raft-apply-timeout", 10*time.Second, "Raft apply timeout")
	fs.DurationVar(&cfg.RaftLeaderLeaseTimeout, "raft-leader-lease-timeout", 0, "Raft leader lease timeout. Use 0s for Raft default")
	fs.DurationVar(&cfg.RaftReapNodeTimeout, "raft-reap-node-timeout", 0, "Time after which a non-reachable voting node will be reaped. If not set, no reaping takes place")
	fs.DurationVar(&cfg.RaftReapReadOnlyTimeout, "raft-reap-read-only-node-timeout", 0, "Time after which a non-reachable non-voting node will be reaped. If not set, no reaping takes place")

	fs.DurationVar(&cfg.TxBusyTimeout, "tx-busy-timeout", 5*time.Second, "How long a write waits for an open interactive (Hrana) transaction before failing with \"database is locked\" (rdb only)")
	fs.DurationVar(&cfg.TxIdleTimeout, "tx-idle-timeout", 10*time.Second, "An idle interactive (Hrana) transaction is rolled back, and its stream expires, after this long (rdb only)")

	fs.StringVar(&cfg.AuthFile, "auth", "", "Path to authentication and authorization file. If not set, not enabled")
	fs.StringVar(&cfg.HTTPCert, "http-cert", "", "Path to HTTPS X.509 certificate")
	fs.StringVar(&cfg.HTTPKey, "http-key", "", "Path to HTTPS X.509 private key")
	fs.StringVar(&cfg.HTTPCACert, "http-ca-cert", "", "Path to X.509 CA certificate for HTTPS")
	fs.BoolVar(&cfg.HTTPVerifyClient, "http-verify-client", false, "Enable mutual TLS for HTTPS")
	fs.StringVar(&cfg.HTTPVerifyCommonName, "http-verify-common-name", "", "Common name a client certificate must present")
	fs.BoolVar(&cfg.HTTPNoVerify, "http-no-verify", false, "Accepted for compatibility with older rqlite test helpers; has no effect")
	fs.StringVar(&cfg.NodeCert, "node-cert", "", "Path to X.509 certificate for node-to-node encryption")
	fs.StringVar(&cfg.NodeKey, "node-key", "", "Path to X.509 private key for node-to-node encryption")
	fs.StringVar(&cfg.NodeCACert, "node-ca-cert", "", "Path to X.509 CA certificate for node-to-node encryption")
	fs.BoolVar(&cfg.NodeNoVerify, "node-no-verify", false, "Skip verification of any node-node certificate")
	fs.BoolVar(&cfg.NodeVerifyClient, "node-verify-client", false, "Enable mutual TLS for node-to-node communication")
	fs.StringVar(&cfg.NodeVerifyServerName, "node-verify-server-name", "", "Hostname to verify on certificate returned by a node")
	fs.StringVar(&cfg.NodeVerifyCommonName, "node-verify-common-name", "", "Common name a peer node's certificate must present")
	fs.StringVar(&cfg.HTTPAllowOrigin, "http-allow-origin", "", "Value to set for Access-Control-Allow-Origin HTTP header")
	fs.BoolVar(&cfg.MetricsNoAuth, "metrics-no-auth", false, "Serve /metrics (Prometheus) without authentication even when -auth is set (rdb only); otherwise it needs the status permission")
	fs.Int64Var(&cfg.HTTPMaxBodySize, "http-max-body-size", 64<<20, "Largest request body, in bytes, the HTTP API accepts (rdb only); larger bodies get 413")

	fs.BoolVar(&cfg.FKConstraints, "fk", false, "Enable SQLite foreign key constraints")
	fs.IntVar(&cfg.WriteQueueCap, "write-queue-capacity", 1024, "Write queue capacity")
	fs.IntVar(&cfg.WriteQueueBatchSize, "write-queue-batch-size", 128, "Write queue batch size")
	fs.DurationVar(&cfg.WriteQueueTimeout, "write-queue-timeout", 50*time.Millisecond, "Time after which write queue will be flushed, even if not full")
	fs.BoolVar(&cfg.WriteQueueTx, "write-queue-tx", false, "Use a transaction when processing a queued write")
	fs.IntVar(&cfg.DBMaxReadConns, "db-max-ro-conns", 256, "Maximum number of read-only connections to the SQLite database")
	fs.Int64Var(&cfg.DBMaxResultSize, "db-max-result-size", 256<<20, "Largest result, in bytes held in memory, one query may return (rdb only); larger results fail with an error. 0 means no limit")
	fs.DurationVar(&cfg.ClusterConnectTime, "cluster-connect-timeout", 30*time.Second, "Timeout for initial connection to other nodes"+notYet)

	fs.DurationVar(&cfg.AutoVacuumInterval, "auto-vacuum-int", 0, "Period between automatic VACUUMs. If not set, not enabled"+notYet)
	fs.DurationVar(&cfg.AutoOptimizeInterval, "auto-optimize-int", 24*time.Hour, "Period between automatic 'PRAGMA optimize'. Set to 0h to disable"+notYet)
	fs.BoolVar(&cfg.CompressSnapTransport, "compress-snap-transport", false, "Compress snapshots sent to other nodes"+notYet)
	fs.StringVar(&cfg.ExtensionsPath, "extensions-path", "", "Not supported: rdb's pure-Go SQLite cannot load native extensions (the node refuses to start with it)")
	fs.StringVar(&cfg.AutoBackupFile, "auto-backup", "", "Path to automatic backup configuration file. If not set, not enabled")
	fs.StringVar(&cfg.AutoRestoreFile, "auto-restore", "", "Path to automatic restore configuration file. If not set, not enabled")
	fs.StringVar(&cfg.CDCConfig, "cdc-config", "", "Path to change data capture configuration file, or an HTTP endpoint, or stdout. If not set, not enabled")
	fs.StringVar(&cfg.DiscoMode, "disco-mode", "", "Choose clustering discovery mode. If not set, no node discovery is performed")
	fs.StringVar(&cfg.DiscoKey, "disco-key", "rqlite", "Key prefix for cluster discovery service")
	fs.StringVar(&cfg.DiscoConfig, "disco-config", "", "Set discovery config, or path to cluster discovery config file")
	fs.StringVar(&cfg.CPUProfile, "cpu-profile", "", "Path to file for CPU profiling information")
	fs.StringVar(&cfg.MemProfile, "mem-profile", "", "Path to file for memory profiling information")
	fs.StringVar(&cfg.TraceProfile, "trace-profile", "", "Path to file for trace profiling information"+notYet)

	fs.DurationVar(&cfg.DivergenceCheckInterval, "divergence-check-int", time.Hour, "Period between the leader's comparisons of every node's database checksum at a common log index (rdb only). Set to 0 to disable")
	fs.DurationVar(&cfg.DivergenceCheckTimeout, "divergence-check-timeout", 10*time.Minute, "Longest one divergence check may take, digests on every node included (rdb only)")
	registerOTLPFlags(fs, &cfg.OTLP)

	fs.BoolVar(&cfg.ShowVersion, "version", false, "Show version information and exit")
	return fs
}

// errHelp is returned by parseServeFlags after printing help.
var errHelp = flag.ErrHelp

// parseServeFlags parses args into a Config. dataRequired says whether the
// data directory argument is mandatory (as for rqlited) or defaults to
// ./rdb-data (as for `rdb serve`).
func parseServeFlags(name string, args []string, dataRequired bool, out io.Writer) (*Config, error) {
	cfg := &Config{}
	fs := newFlagSet(name, cfg, out)
	fs.Usage = func() { serveUsage(fs, name, out) }
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if cfg.ShowVersion {
		return cfg, nil
	}
	fs.Visit(func(f *flag.Flag) {
		cfg.reapSet = cfg.reapSet || f.Name == "raft-reap-node-timeout"
		cfg.reapReadOnlySet = cfg.reapReadOnlySet || f.Name == "raft-reap-read-only-node-timeout"
	})
	switch fs.NArg() {
	case 0:
		if dataRequired {
			return nil, errors.New("missing required argument: DataPath")
		}
		cfg.DataPath = "rdb-data"
	case 1:
		cfg.DataPath = fs.Arg(0)
	default:
		return nil, fmt.Errorf("unexpected arguments after the data directory: %s", strings.Join(fs.Args()[1:], " "))
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func serveUsage(fs *flag.FlagSet, name string, out io.Writer) {
	fmt.Fprintf(out, `Usage: %s [flags] [DATA_DIR]

Runs one rdb node: the HTTP API on -http-addr, Raft and node-to-node traffic
on -raft-addr, its SQLite database and Raft log under DATA_DIR (default
./rdb-data). A fresh node started without -join bootstraps a one-node cluster;
a restarted node reuses its state. Flags follow rqlited's names and defaults.

Flags:
`, name)
	fs.PrintDefaults()
}

// anyPort reports whether addr asks the system to choose the port.
func anyPort(addr string) bool {
	_, port, err := net.SplitHostPort(addr)
	return err == nil && port == "0"
}

// useBound puts the addresses actually bound in place of the flags' port 0:
// in the bind addresses, and in the advertised addresses and node ID that
// validate derived from them.
func (c *Config) useBound(httpAddr, raftAddr string) {
	if anyPort(c.HTTPAddr) {
		if c.HTTPAdvAddr == c.HTTPAddr {
			c.HTTPAdvAddr = httpAddr
		}
		c.HTTPAddr = httpAddr
	}
	if anyPort(c.RaftAddr) {
		if c.NodeID == c.RaftAdvAddr && c.RaftAdvAddr == c.RaftAddr {
			c.NodeID = raftAddr
		}
		if c.RaftAdvAddr == c.RaftAddr {
			c.RaftAdvAddr = raftAddr
		}
		c.RaftAddr = raftAddr
	}
}

// validate checks the combinations rqlited refuses, and fills derived
// defaults (advertised addresses, node ID).
func (c *Config) validate() error {
	if c.HTTPAdvAddr == "" {
		c.HTTPAdvAddr = c.HTTPAddr
	}
	if c.RaftAdvAddr == "" {
		c.RaftAdvAddr = c.RaftAddr
	}
	if c.NodeID == "" {
		c.NodeID = c.RaftAdvAddr
	}
	for _, a := range []struct{ name, addr string }{
		{"-http-addr", c.HTTPAddr}, {"-http-adv-addr", c.HTTPAdvAddr},
		{"-raft-addr", c.RaftAddr}, {"-raft-adv-addr", c.RaftAdvAddr},
	} {
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("%s %q is not a host:port address: %w", a.name, a.addr, err)
		}
	}
	if c.HTTPAddr == c.RaftAddr && !anyPort(c.HTTPAddr) {
		return errors.New("HTTP and Raft addresses must differ")
	}
	for _, a := range []struct{ name, addr string }{{"-http-adv-addr", c.HTTPAdvAddr}, {"-raft-adv-addr", c.RaftAdvAddr}} {
		if host, _, _ := net.SplitHostPort(a.addr); host == "0.0.0.0" || host == "::" {
			return fmt.Errorf("advertised address %s %q must not be unspecified (0.0.0.0); set it to an address other nodes can reach", a.name, a.addr)
		}
	}
	if (c.HTTPCert == "") != (c.HTTPKey == "") {
		return errors.New("both -http-cert and -http-key must be set, or neither")
	}
	if (c.NodeCert == "") != (c.NodeKey == "") {
		return errors.New("both -node-cert and -node-key must be set, or neither")
	}
	if err := c.validateSecurity(); err != nil {
		return err
	}
	switch strings.ToUpper(c.RaftLogLevel) {
	case "ERROR", "WARN", "INFO", "DEBUG":
	default:
		return fmt.Errorf("-raft-log-level %q is not one of ERROR, WARN, INFO, DEBUG", c.RaftLogLevel)
	}
	if c.DBMaxResultSize < 0 {
		return errors.New("-db-max-result-size must not be negative (0 means no limit)")
	}
	if c.HTTPMaxBodySize <= 0 {
		return errors.New("-http-max-body-size must be positive")
	}
	if err := c.validateDisco(); err != nil {
		return err
	}
	if err := c.OTLP.validate(); err != nil {
		return err
	}
	return c.loadOps()
}

// validateSecurity checks the TLS and auth flag combinations rqlited
// refuses.
func (c *Config) validateSecurity() error {
	if err := c.httpTLS().Validate(); err != nil {
		return fmt.Errorf("HTTP TLS flags: %w", err)
	}
	if err := c.nodeTLS().Validate(); err != nil {
		return fmt.Errorf("node TLS flags: %w", err)
	}
	if c.JoinAs != "" && c.AuthFile == "" {
		return errors.New("-join-as requires -auth")
	}
	return nil
}

// ignoredFlags names set flags that are accepted but have no effect yet, so
// serve can log them.
func (c *Config) ignoredFlags() []string {
	var out []string
	add := func(name string, set bool) {
		if set {
			out = append(out, name)
		}
	}
	add("-raft-remove-shutdown", c.RaftRemoveShutdown)
	add("-auto-vacuum-int", c.AutoVacuumInterval != 0)
	add("-compress-snap-transport", c.CompressSnapTransport)
	add("-trace-profile", c.TraceProfile != "")
	return out
}

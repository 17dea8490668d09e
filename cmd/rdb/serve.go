package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/rdb/rdb/cluster"
	"github.com/rdb/rdb/hrana"
	httpd "github.com/rdb/rdb/http"
	"github.com/rdb/rdb/internal/mux"
	"github.com/rdb/rdb/metrics"
	"github.com/rdb/rdb/store"
)

var (
	_ httpd.Database = (*cluster.Proxy)(nil)
	_ httpd.Cluster  = (*cluster.Service)(nil)
	_ httpd.Store    = (*store.Store)(nil)
	_ cluster.Local  = (*store.Store)(nil)
	_ store.Observer = (*metrics.Registry)(nil)
)

// serve runs a node until SIGINT or SIGTERM, then shuts it down gracefully.
func serve(cfg *Config, logOut io.Writer) error {
	logger := slog.New(slog.NewTextHandler(logOut, &slog.HandlerOptions{Level: slog.LevelInfo}))
	for _, f := range cfg.ignoredFlags() {
		logger.Warn("flag accepted but not implemented yet; ignoring it", "flag", f)
	}
	cfg.OTLP.warn(logger)
	stopProfile, err := startProfiles(cfg)
	if err != nil {
		return err
	}
	defer stopProfile()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	n, err := startNode(ctx, cfg, logger)
	if err != nil {
		if ctx.Err() != nil {
			// Stopped while still forming or joining a cluster.
			logger.Info("signal received during start-up; stopped", "error", err)
			return nil
		}
		return err
	}
	<-ctx.Done()
	logger.Info("signal received, shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return n.Close(shutdownCtx)
}

// node is one running rdb node: what `rdb serve` runs, and what in-process
// tests and benchmarks start.
type node struct {
	cfg    *Config
	logger *slog.Logger
	mux    *mux.Mux
	rpc    *cluster.Server
	client *cluster.Client
	proxy  *cluster.Proxy
	store  *store.Store
	http   *httpd.Service
	hrana  *hrana.Server
	sec    security
	disco  *discovery
	// metrics is the node's Prometheus registry (GET /metrics); it reads
	// the store and the HTTP service when scraped.
	metrics *metrics.Registry
	// httpLn and raftLn are bound first, so that port 0 can be resolved
	// before anything uses the addresses; their services then own them.
	httpLn net.Listener
	raftLn net.Listener
	// verifier compares replicas' checksums (divergence.go).
	verifier   *cluster.Verifier
	stopVerify context.CancelFunc
	ops        opsNode // automatic backups, restore, CDC (ops.go)
}

// startNode wires the inter-node channel, store, cluster and HTTP together
// and starts them. The HTTP API is up before the store has finished opening,
// as rqlite's tooling expects (it polls /status during start-up).
func startNode(ctx context.Context, cfg *Config, logger *slog.Logger) (*node, error) {
	if err := os.MkdirAll(cfg.DataPath, 0o755); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	dataPath, err := filepath.Abs(cfg.DataPath)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.DataPath, err)
	}
	sec, err := loadSecurity(cfg)
	if err != nil {
		return nil, err
	}
	n := &node{cfg: cfg, logger: logger, sec: sec}
	if err := n.listen(); err != nil {
		n.Close(context.Background())
		return nil, err
	}
	if err := n.downloadRestore(ctx, dataPath); err != nil {
		n.Close(context.Background())
		return nil, err
	}
	if err := n.startCluster(dataPath); err != nil {
		n.Close(context.Background())
		return nil, err
	}
	if err := n.startHTTP(); err != nil {
		n.Close(context.Background())
		return nil, err
	}
	if err := n.openStore(ctx); err != nil {
		n.Close(context.Background())
		return nil, err
	}
	n.startVerifier()
	n.startOps()
	logger.Info("node started", "node_id", cfg.NodeID, "http", n.http.Addr().String(), "raft", cfg.RaftAdvAddr, "data", dataPath, "version", version)
	return n, nil
}

// listen binds the HTTP and Raft addresses. A port 0 becomes the port the
// system chose, in the bind address and wherever it stood in for an unset
// advertised address or node ID; the addresses are logged, so whoever
// started the node can read them.
func (n *node) listen() error {
	cfg := n.cfg
	var err error
	if n.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return fmt.Errorf("listen for HTTP on %s: %w", cfg.HTTPAddr, err)
	}
	if n.raftLn, err = net.Listen("tcp", cfg.RaftAddr); err != nil {
		return fmt.Errorf("listen for Raft on %s: %w", cfg.RaftAddr, err)
	}
	cfg.useBound(n.httpLn.Addr().String(), n.raftLn.Addr().String())
	n.logger.Info("listening", "node_id", cfg.NodeID, "http", cfg.HTTPAddr, "raft", cfg.RaftAddr)
	return nil
}

// startCluster shares the Raft listener between Raft and the cluster RPC
// service, and creates the store on top of it.
func (n *node) startCluster(dataPath string) error {
	cfg := n.cfg
	serverTLS, clientTLS, err := cfg.nodeTLS().Build()
	if err != nil {
		return fmt.Errorf("node-to-node TLS: %w", err)
	}
	mc := mux.DefaultConfig()
	mc.AdvAddr = cfg.RaftAdvAddr
	mc.TLS, mc.DialTLS = serverTLS, clientTLS
	if n.mux, err = mux.New(n.raftLn, mc, n.logger); err != nil {
		return fmt.Errorf("create mux: %w", err)
	}
	go n.mux.Serve()

	if err := n.newCDC(dataPath, clientTLS); err != nil {
		return err
	}
	if err := n.newMetrics(); err != nil {
		return err
	}
	sc := storeConfig(cfg, dataPath, n.logger)
	if n.ops.cdc != nil {
		sc.Changes = n.ops.cdc.Capture
	}
	sc.Observer = n.metrics
	if n.store, err = store.New(sc, store.NewTransport(n.mux.RaftLayer(), n.logger)); err != nil {
		return fmt.Errorf("create store: %w", err)
	}
	clc := cluster.DefaultClientConfig()
	clc.TLS = clientTLS
	if n.client, err = cluster.NewClient(clc); err != nil {
		return fmt.Errorf("create cluster client: %w", err)
	}
	cc := cluster.DefaultConfig()
	cc.NodeID, cc.RaftAddr, cc.APIURL, cc.Version = cfg.NodeID, cfg.RaftAdvAddr, cfg.apiURL(), version
	cc.BootstrapExpect = cfg.BootstrapExpect
	cc.Auth = n.sec.clusterAuth()
	n.proxy = cluster.NewProxy(n.store, n.client)
	svc, err := cluster.NewService(cc, n.proxy, n.logger)
	if err != nil {
		return fmt.Errorf("create cluster service: %w", err)
	}
	n.rpc = cluster.NewServer(n.mux.Listener(mux.HeaderRPC), svc.Handler(), n.logger)
	go n.rpc.Serve()
	hc := httpConfig(cfg)
	hc.Auth = n.sec.httpAuth()
	hc.Reporters = statusReporters(n.mux, dataPath)
	if n.disco, err = n.newDiscovery(); err != nil {
		return err
	}
	n.discoStatus(hc.Reporters)
	if err := n.newVerifier(hc.Reporters); err != nil {
		return err
	}
	if n.hrana, err = newHrana(cfg, n); err != nil {
		return err
	}
	hc.Reporters["hrana"] = func() (map[string]any, error) { return n.hrana.Stats(), nil }
	if err := n.newUploader(); err != nil {
		return err
	}
	n.opsReporters(hc.Reporters)
	n.observeHTTP(&hc)
	n.http, err = httpd.New(hc, n.proxy, readyGate{n.store, &n.ops.restoring}, svc, n.logger)
	if err != nil {
		return fmt.Errorf("create HTTP service: %w", err)
	}
	n.http.SetBackups(n.store)
	n.http.SetHrana(n.hrana)
	return nil
}

func (n *node) startHTTP() error {
	if err := n.http.Serve(n.httpLn); err != nil {
		return fmt.Errorf("start HTTP service on %s: %w", n.cfg.HTTPAddr, err)
	}
	return nil
}

// errNonVoterNeedsJoin is returned for a fresh -raft-non-voter node without
// -join: it cannot bootstrap (a cluster needs a voter) and has nothing to
// rejoin.
var errNonVoterNeedsJoin = errors.New("a non-voting node (-raft-non-voter) without Raft state must be given -join addresses")

// openStore opens the store and forms or rejoins the cluster: -join joins
// (also with existing state, so a changed address is updated),
// -bootstrap-expect forms a cluster with its peers, a node with Raft state
// and no -join (voter or not: how supervisors restart a node) finds its
// cluster from that state, and a fresh voter with neither bootstraps a
// single-voter cluster of itself. Whether -join is needed can only be
// decided here, once the store knows whether it has state.
func (n *node) openStore(ctx context.Context) error {
	cfg := n.cfg
	if err := n.store.Open(ctx); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	has, err := n.store.HasState()
	if err != nil {
		return fmt.Errorf("check for existing state: %w", err)
	}
	joins := splitAddrs(cfg.JoinAddrs)
	switch {
	case cfg.DiscoMode != "":
		return n.discover(ctx, has)
	case len(joins) > 0 && cfg.BootstrapExpect > 0:
		return n.bootstrapExpect(ctx, joins)
	case len(joins) > 0:
		return n.join(ctx, joins, has)
	case has:
		n.logger.Info("existing Raft state found, rejoining with it")
		return nil
	case cfg.RaftNonVoter:
		return errNonVoterNeedsJoin
	}
	n.logger.Info("no existing state and no join addresses: bootstrapping a single-node cluster")
	if err := n.store.Bootstrap(store.Server{ID: cfg.NodeID, Addr: cfg.RaftAdvAddr, Voter: true}); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}

func (n *node) joinConfig(joins []string) cluster.JoinConfig {
	jc := cluster.DefaultJoinConfig()
	jc.Addresses, jc.ID, jc.Addr, jc.Voter = joins, n.cfg.NodeID, n.cfg.RaftAdvAddr, !n.cfg.RaftNonVoter
	jc.Attempts, jc.Interval = n.cfg.JoinAttempts, n.cfg.JoinInterval
	jc.Credentials = n.sec.joinAs
	return jc
}

func (n *node) join(ctx context.Context, joins []string, has bool) error {
	if has {
		servers, err := n.store.Servers()
		if err == nil && len(servers) == 1 && servers[0].ID == n.cfg.NodeID {
			return fmt.Errorf("node is already the only member of its own single-node cluster; it cannot join another (remove %s to start afresh)", n.cfg.DataPath)
		}
		n.logger.Info("existing Raft state found; joining anyway so the leader can update this node's entry")
	}
	j, err := cluster.NewJoiner(n.joinConfig(joins), n.client, n.logger)
	if err != nil {
		return fmt.Errorf("create joiner: %w", err)
	}
	leader, err := j.Join(ctx)
	if err != nil {
		return fmt.Errorf("join cluster at %s: %w", strings.Join(joins, ","), err)
	}
	n.logger.Info("joined cluster", "leader", leader)
	return nil
}

func (n *node) bootstrapExpect(ctx context.Context, joins []string) error {
	bc := cluster.DefaultBootstrapConfig()
	bc.Join = n.joinConfig(joins)
	bc.Timeout = n.cfg.BootstrapExpectTimeout
	b, err := cluster.NewBootstrapper(bc, n.store, n.client, n.logger)
	if err != nil {
		return fmt.Errorf("create bootstrapper: %w", err)
	}
	if err := b.Boot(ctx); err != nil {
		return fmt.Errorf("bootstrap with %d expected nodes: %w", n.cfg.BootstrapExpect, err)
	}
	n.logger.Info("cluster formed", "expected", n.cfg.BootstrapExpect)
	return nil
}

func splitAddrs(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// Close shuts down in reverse order of start: stop taking client requests,
// optionally leave the cluster, close the store (which hands over leadership
// first if it can), then the inter-node channel.
func (n *node) Close(ctx context.Context) error {
	var errs []error
	if n.stopVerify != nil {
		n.stopVerify()
	}
	n.stopOps()
	if n.http != nil {
		if err := n.http.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close HTTP service: %w", err))
		}
	}
	if n.hrana != nil {
		n.hrana.Close() // roll back open transactions before the store goes
	}
	if n.cfg.RaftClusterRemoveShutdown && n.proxy != nil && n.store != nil && n.store.IsOpen() {
		rctx := ctx
		if c := n.sec.joinAs; c != nil {
			rctx = cluster.WithCredentials(ctx, c.Username, c.Password)
		}
		if _, err := n.proxy.Remove(rctx, n.cfg.NodeID); err != nil {
			n.logger.Warn("could not remove this node from the cluster before shutdown", "error", err)
		} else {
			n.logger.Info("removed this node from the cluster")
		}
	}
	n.closeDiscovery()
	if n.store != nil {
		if err := n.store.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
		}
	}
	if err := n.closeCDC(); err != nil {
		errs = append(errs, fmt.Errorf("close CDC: %w", err))
	}
	if n.rpc != nil {
		n.rpc.Close()
	}
	if n.mux != nil {
		n.mux.Close()
	}
	if n.client != nil {
		n.client.Close()
	}
	// A start that failed early leaves listeners no service took over;
	// closing one twice only returns an error, which is ignored.
	for _, ln := range []net.Listener{n.httpLn, n.raftLn} {
		if ln != nil {
			ln.Close()
		}
	}
	n.logger.Info("node stopped")
	return errors.Join(errs...)
}

func storeConfig(cfg *Config, dataPath string, logger *slog.Logger) store.Config {
	sc := store.DefaultConfig()
	sc.Dir = dataPath
	sc.NodeID = cfg.NodeID
	sc.RaftAddr = cfg.RaftAdvAddr
	sc.FKConstraints = cfg.FKConstraints
	sc.MaxReadConns = cfg.DBMaxReadConns
	sc.MaxResultBytes = cfg.DBMaxResultSize
	sc.SnapshotThreshold = cfg.RaftSnapThreshold
	// As rqlite: keep a quarter more log than the snapshot threshold, so a
	// follower slightly behind catches up from the log, not a snapshot.
	sc.TrailingLogs = cfg.RaftSnapThreshold + cfg.RaftSnapThreshold/4
	sc.SnapshotInterval = cfg.RaftSnapInterval
	sc.SnapshotWALSize = cfg.RaftSnapWALSize
	sc.HeartbeatTimeout = cfg.RaftHeartbeatTimeout
	sc.ElectionTimeout = cfg.RaftElectionTimeout
	sc.CommitTimeout = cfg.RaftCommitTimeout
	sc.ApplyTimeout = cfg.RaftApplyTimeout
	sc.LeaderLeaseTimeout = cfg.RaftLeaderLeaseTimeout
	sc.RaftLogLevel = cfg.RaftLogLevel
	sc.ShutdownStepdown = cfg.RaftShutdownStepdown
	sc.NonVoter = cfg.RaftNonVoter
	sc.ReapTimeout = cfg.RaftReapNodeTimeout
	sc.ReapReadOnlyTimeout = cfg.RaftReapReadOnlyTimeout
	sc.TxBusyTimeout, sc.TxIdleTimeout = cfg.TxBusyTimeout, cfg.TxIdleTimeout
	sc.Logger = logger
	// The database could not commit applied entries: stop at once, so
	// that a restart replays them from the log, rather than carry on
	// with a file that lacks them.
	sc.Fatal = func(err error) {
		logger.Error("stopping: the database cannot apply committed entries; a restart replays them from the Raft log", "error", err)
		os.Exit(1)
	}
	return sc
}

// statusReporters are the /status sections that come from outside package
// http (API.md §1.7): the inter-node mux, and SQLite extensions, of which
// rdb loads none (modernc's SQLite cannot load native extensions, so
// -extensions-path is refused), reported as rqlite reports a node without
// any.
func statusReporters(m *mux.Mux, dataPath string) map[string]func() (map[string]any, error) {
	return map[string]func() (map[string]any, error){
		"mux": func() (map[string]any, error) { return m.Stats(), nil },
		"extensions": func() (map[string]any, error) {
			return map[string]any{"dir": filepath.Join(dataPath, "extensions"), "names": []string{}}, nil
		},
	}
}

func httpConfig(cfg *Config) httpd.Config {
	hc := httpd.DefaultConfig()
	hc.Addr = cfg.HTTPAddr
	hc.AdvAddr = cfg.HTTPAdvAddr
	hc.Version = version
	hc.Commit = buildCommit()
	hc.BuildTime = buildTime
	hc.AllowOrigin = cfg.HTTPAllowOrigin
	hc.TLS = cfg.httpTLS()
	hc.HTTPS = hc.TLS.Enabled()
	hc.MaxBodySize = cfg.HTTPMaxBodySize
	hc.QueueCapacity = cfg.WriteQueueCap
	hc.QueueBatchSize = cfg.WriteQueueBatchSize
	hc.QueueTimeout = cfg.WriteQueueTimeout
	hc.QueueTx = cfg.WriteQueueTx
	return hc
}

// startProfiles starts the CPU profile and arranges the memory profile
// requested by flags; the returned func finishes both.
func startProfiles(cfg *Config) (func(), error) {
	var cpu *os.File
	if cfg.CPUProfile != "" {
		f, err := os.Create(cfg.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("create CPU profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("start CPU profile: %w", err)
		}
		cpu = f
	}
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			cpu.Close()
		}
		if cfg.MemProfile != "" {
			if f, err := os.Create(cfg.MemProfile); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
	}, nil
}

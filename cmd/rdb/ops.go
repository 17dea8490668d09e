package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/rdb/rdb/backup"
	"github.com/rdb/rdb/cdc"
	"github.com/rdb/rdb/internal/mux"
	"github.com/rdb/rdb/store"
)

// errExtensions refuses -extensions-path: rdb's SQLite is modernc.org's
// pure-Go translation, which has no dlopen, so no native extension can
// ever be loaded into it.
var errExtensions = errors.New("-extensions-path is not supported: rdb's SQLite (modernc.org/sqlite, pure Go, no cgo) cannot load native SQLite extensions (.so/.dylib/.dll); see the README section \"SQLite extensions\"")

// errRestoreWithJoin refuses -auto-restore on a node that joins a cluster
// (rqlite's text).
var errRestoreWithJoin = errors.New("auto-restoring cannot be used when joining a cluster")

// opsConfig holds the operations files read while validating flags.
type opsConfig struct {
	backup  *backup.Config
	restore *backup.RestoreConfig
	cdc     *cdc.Config
}

// loadOps reads and checks -auto-backup and -auto-restore, so a mistake
// stops the node before anything starts (fatal: …, exit 1).
func (c *Config) loadOps() error {
	if c.ExtensionsPath != "" {
		return errExtensions
	}
	if c.AutoBackupFile != "" {
		bc, err := backup.ReadConfig(c.AutoBackupFile)
		if err != nil {
			return fmt.Errorf("failed to start auto-backups: %w", err)
		}
		c.ops.backup = bc
	}
	if c.AutoRestoreFile != "" {
		if c.JoinAddrs != "" && c.BootstrapExpect == 0 {
			return errRestoreWithJoin
		}
		rc, err := backup.ReadRestoreConfig(c.AutoRestoreFile)
		if err != nil {
			return fmt.Errorf("failed to start auto-restore: %w", err)
		}
		c.ops.restore = rc
	}
	if c.CDCConfig != "" {
		if c.RaftNonVoter {
			return cdc.ErrNonVoter
		}
		cc, err := cdc.ParseFlag(c.CDCConfig)
		if err != nil {
			return err
		}
		c.ops.cdc = cc
	}
	return nil
}

// opsNode is the part of a node that runs automatic backups and restores.
type opsNode struct {
	uploader *backup.Uploader
	// restorePath is the downloaded auto-restore file until it has been
	// loaded or discarded; restoring holds /readyz not-ready meanwhile.
	restorePath string
	restoring   atomic.Bool
	cancel      context.CancelFunc
	done        chan struct{}
	cdc         *cdc.Service
}

// readyGate is the store as package http sees it, not ready while an
// auto-restore is pending.
type readyGate struct {
	*store.Store
	restoring *atomic.Bool
}

func (g readyGate) Ready() bool { return !g.restoring.Load() && g.Store.Ready() }

// downloadRestore fetches the -auto-restore file on a node without data,
// before the store opens.
func (n *node) downloadRestore(ctx context.Context, dataPath string) error {
	rc := n.cfg.ops.restore
	if rc == nil {
		return nil
	}
	if hasRaftState(dataPath) {
		n.logger.Info("node has data, auto-restore skipped")
		return nil
	}
	dl, err := backup.NewDownloader(rc)
	if err == nil {
		n.ops.restorePath, err = backup.Download(ctx, rc, dl, dataPath, n.logger)
	}
	if err != nil {
		if rc.ContinueOnFailure {
			n.logger.Warn("auto-restore failed; continuing without it", "error", err)
			return nil
		}
		return fmt.Errorf("auto-restore: %w", err)
	}
	n.ops.restoring.Store(true)
	return nil
}

// hasRaftState reports whether the data directory holds Raft state from
// an earlier run (a log or snapshots).
func hasRaftState(dataPath string) bool {
	entries, err := os.ReadDir(filepath.Join(dataPath, "raft"))
	return err == nil && len(entries) > 0
}

// newUploader creates the auto-backup uploader (started by startOps).
func (n *node) newUploader() error {
	bc := n.cfg.ops.backup
	if bc == nil {
		return nil
	}
	st, err := backup.NewStorage(bc)
	if err != nil {
		return fmt.Errorf("failed to start auto-backups: %w", err)
	}
	n.ops.uploader = backup.NewUploader(bc, st, backupProvider{n.store}, "", n.logger)
	return nil
}

// startOps starts what runs once the node is in its cluster: the
// uploader, and the pending auto-restore.
func (n *node) startOps() {
	if n.ops.uploader != nil {
		n.ops.uploader.Start()
	}
	if n.ops.cdc != nil {
		n.ops.cdc.Start()
	}
	if n.ops.restorePath == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.ops.cancel, n.ops.done = cancel, make(chan struct{})
	go func() {
		defer close(n.ops.done)
		defer n.ops.restoring.Store(false)
		defer os.Remove(n.ops.restorePath)
		loaded, err := n.store.AutoRestore(ctx, n.ops.restorePath)
		switch {
		case err != nil:
			n.logger.Error("auto-restore failed", "error", err)
		case loaded:
			n.logger.Info("auto-restore loaded the database through the log")
		default:
			n.logger.Info("another node leads; auto-restore file discarded")
		}
	}()
}

// stopOps stops the uploader and a pending restore.
func (n *node) stopOps() {
	if n.ops.uploader != nil {
		n.ops.uploader.Stop()
	}
	if n.ops.cancel != nil {
		n.ops.cancel()
		<-n.ops.done
	}
}

// opsReporters adds the /status sections of the configured features.
func (n *node) opsReporters(r map[string]func() (map[string]any, error)) {
	if u := n.ops.uploader; u != nil {
		r["auto_backups"] = func() (map[string]any, error) { return u.Status(), nil }
	}
	if c := n.ops.cdc; c != nil {
		r["cdc"] = func() (map[string]any, error) { return c.Status(), nil }
	}
}

// newCDC creates the change data capture service, before the store, whose
// applies feed it (storeConfig passes Capture as the store's change
// sink). It is started with the other operations and closed after the
// store.
func (n *node) newCDC(dataPath string, clientTLS *tls.Config) error {
	cc := n.cfg.ops.cdc
	if cc == nil {
		return nil
	}
	d := mux.Dialer{Header: mux.HeaderCDC, TLS: clientTLS}
	svc, err := cdc.New(cc, n.cfg.NodeID, dataPath, cdcCluster{n}, n.mux.Listener(mux.HeaderCDC), d, os.Stdout, n.logger)
	if err != nil {
		return fmt.Errorf("start CDC: %w", err)
	}
	n.ops.cdc = svc
	return nil
}

// closeCDC closes the CDC service once the store no longer applies.
func (n *node) closeCDC() error {
	if n.ops.cdc == nil {
		return nil
	}
	return n.ops.cdc.Close()
}

// cdcCluster is the store as the CDC service sees it; the store is
// created after the service, so it is looked up on each call.
type cdcCluster struct{ n *node }

func (c cdcCluster) IsLeader() bool { return c.n.store != nil && c.n.store.IsLeader() }

func (c cdcCluster) OtherVoters() ([]string, error) {
	servers, err := c.n.store.Servers()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range servers {
		if s.Voter && s.ID != c.n.cfg.NodeID {
			out = append(out, s.Addr)
		}
	}
	return out, nil
}

// backupProvider is the store as the uploader needs it.
type backupProvider struct{ s *store.Store }

func (p backupProvider) IsLeader() bool         { return p.s.IsLeader() }
func (p backupProvider) DBAppliedIndex() uint64 { return p.s.DBAppliedIndex() }

// Backup writes the binary backup (API.md §4). It is always a VACUUM INTO
// copy, so it is compact whether or not the config asks for vacuum.
func (p backupProvider) Backup(ctx context.Context, w io.Writer, _ bool) error {
	return p.s.Backup(ctx, w, store.BackupBinary, nil)
}

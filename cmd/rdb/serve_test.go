package main

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestStartNode_PortZero checks that port 0 becomes the bound port in the
// bind and advertised addresses and in the default node ID.
func TestStartNode_PortZero(t *testing.T) {
	cfg, err := parseServeFlags("rdb serve", []string{
		"-http-addr", "127.0.0.1:0", "-raft-addr", "127.0.0.1:0", "-raft-log-level", "ERROR", t.TempDir(),
	}, true, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	n, err := startNode(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close(context.Background())
	if got := n.http.Addr().String(); cfg.HTTPAddr != got || cfg.HTTPAdvAddr != got || strings.HasSuffix(got, ":0") {
		t.Errorf("HTTP bound %s, -http-addr %s, advertised %s", got, cfg.HTTPAddr, cfg.HTTPAdvAddr)
	}
	if got := n.raftLn.Addr().String(); cfg.RaftAddr != got || cfg.RaftAdvAddr != got || cfg.NodeID != got {
		t.Errorf("Raft bound %s, -raft-addr %s, advertised %s, node ID %s", got, cfg.RaftAddr, cfg.RaftAdvAddr, cfg.NodeID)
	}
	want := "msg=listening node_id=" + cfg.NodeID + " http=" + cfg.HTTPAddr + " raft=" + cfg.RaftAddr + "\n"
	if !strings.Contains(logs.String(), want) {
		t.Errorf("logs lack %q:\n%s", want, logs.String())
	}
}

// TestConfig_UseBound_KeepsExplicit checks that useBound leaves advertised
// addresses and a node ID that were given alone.
func TestConfig_UseBound_KeepsExplicit(t *testing.T) {
	c := Config{HTTPAddr: ":0", HTTPAdvAddr: "web:80", RaftAddr: ":0", RaftAdvAddr: "raft:4002", NodeID: "n1"}
	c.useBound("[::]:5001", "[::]:5002")
	want := Config{HTTPAddr: "[::]:5001", HTTPAdvAddr: "web:80", RaftAddr: "[::]:5002", RaftAdvAddr: "raft:4002", NodeID: "n1"}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
}

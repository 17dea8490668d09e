package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestParseServeFlags_Defaults(t *testing.T) {
	cfg, err := parseServeFlags("rdb serve", nil, false, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"data", cfg.DataPath, "rdb-data"},
		{"http", cfg.HTTPAddr, "localhost:4001"},
		{"http adv", cfg.HTTPAdvAddr, "localhost:4001"},
		{"raft", cfg.RaftAddr, "localhost:4002"},
		{"node id", cfg.NodeID, "localhost:4002"},
		{"snap", cfg.RaftSnapThreshold, uint64(8192)},
		{"snap int", cfg.RaftSnapInterval, 10 * time.Second},
		{"wal size", cfg.RaftSnapWALSize, uint64(4194304)},
		{"stepdown", cfg.RaftShutdownStepdown, true},
		{"apply timeout", cfg.RaftApplyTimeout, 10 * time.Second},
		{"queue cap", cfg.WriteQueueCap, 1024},
		{"queue batch", cfg.WriteQueueBatchSize, 128},
		{"queue timeout", cfg.WriteQueueTimeout, 50 * time.Millisecond},
		{"ro conns", cfg.DBMaxReadConns, 256},
		{"join attempts", cfg.JoinAttempts, 5},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestParseServeFlags_Forms(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"single dash space", []string{"-http-addr", "127.0.0.1:5001", "-raft-timeout", "3s", "d"}},
		{"equals", []string{"-http-addr=127.0.0.1:5001", "-raft-timeout=3s", "d"}},
		{"double dash", []string{"--http-addr", "127.0.0.1:5001", "--raft-heartbeat-timeout", "3s", "d"}},
		// A non-voter without -join is a restart on existing state; serve
		// refuses it only when there is no state.
		{"non-voter without join", []string{"-http-addr", "127.0.0.1:5001", "-raft-timeout", "3s", "-raft-non-voter", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServeFlags("rqlited", tt.args, true, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.HTTPAddr != "127.0.0.1:5001" || cfg.RaftHeartbeatTimeout != 3*time.Second || cfg.DataPath != "d" {
				t.Fatalf("got %+v", cfg)
			}
		})
	}
}

func TestParseServeFlags_Errors(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		required bool
		want     string
	}{
		{"rqlited needs a data dir", nil, true, "missing required argument: DataPath"},
		{"extra args", []string{"a", "b"}, false, "unexpected arguments"},
		{"same addresses", []string{"-http-addr", "localhost:1", "-raft-addr", "localhost:1"}, false, "must differ"},
		{"unspecified advertised", []string{"-http-addr", "0.0.0.0:4001"}, false, "must not be unspecified"},
		{"cert without key", []string{"-http-cert", "c.pem"}, false, "both -http-cert and -http-key"},
		{"bad log level", []string{"-raft-log-level", "LOUD"}, false, "-raft-log-level"},
		{"bad duration", []string{"-raft-snap-int", "soon"}, false, "invalid value"},
		{"unknown flag", []string{"-no-such-flag"}, false, "not defined"},
		{"join-as without auth", []string{"-join-as", "bob"}, false, "-join-as requires -auth"},
		{"node CA without node cert", []string{"-node-ca-cert", "ca.pem"}, false, "node TLS flags"},
		{"http verify-client without cert", []string{"-http-verify-client"}, false, "HTTP TLS flags"},
		{"bad address", []string{"-http-addr", "nocolon"}, false, "not a host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseServeFlags("rdb serve", tt.args, tt.required, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestRun_Dispatch(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		code     int
		contains string
	}{
		{"version", []string{"rdb", "version"}, 0, "rdb v"},
		{"version flag", []string{"rdb", "--version"}, 0, "rdb v"},
		{"help", []string{"rdb", "--help"}, 0, "rdb serve"},
		{"serve help", []string{"rdb", "serve", "--help"}, 0, "-raft-snap-wal-size"},
		{"rqlited version", []string{"/usr/bin/rqlited", "-version"}, 0, "rdb v"},
		{"rqlited needs data", []string{"rqlited", "-node-id", "1"}, 1, "fatal: missing required argument: DataPath"},
		{"unknown command", []string{"rdb", "frobnicate"}, 2, "unknown command"},
		{"no args", []string{"rdb"}, 2, "Usage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(tt.args, &out, &out)
			if code != tt.code || !strings.Contains(out.String(), tt.contains) {
				t.Fatalf("code %d (want %d), output %q (want it to contain %q)", code, tt.code, out.String(), tt.contains)
			}
		})
	}
}

package system_test

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// TestDisco_FlagErrors starts `rdb serve` with each flag combination
// rqlited refuses for discovery and reaping (OPS.md §1.1, §6): the
// process must exit with status 1 after printing "fatal: <message>"
// (issue 13, acceptance 5).
func TestDisco_FlagErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown mode", []string{"-disco-mode", "zookeeper"},
			"disco mode must be one of consul-kv, etcd-kv, dns, or dns-srv"},
		{"dns voter without bootstrap-expect", []string{"-disco-mode", "dns"},
			"bootstrap-expect value required when using dns with a voting node"},
		{"dns-srv voter without bootstrap-expect", []string{"-disco-mode", "dns-srv", "-bootstrap-expect", "0"},
			"bootstrap-expect value required when using dns-srv with a voting node"},
		{"consul with bootstrap-expect", []string{"-disco-mode", "consul-kv", "-bootstrap-expect", "3"},
			"bootstrapping not applicable when using consul-kv"},
		{"etcd with bootstrap-expect", []string{"-disco-mode", "etcd-kv", "-bootstrap-expect", "1"},
			"bootstrapping not applicable when using etcd-kv"},
		{"dns with join", []string{"-disco-mode", "dns", "-bootstrap-expect", "3", "-join", "127.0.0.1:4002"},
			"disco mode cannot be used when also explicitly joining a cluster"},
		{"etcd with join", []string{"-disco-mode", "etcd-kv", "-join", "127.0.0.1:4002"},
			"disco mode cannot be used when also explicitly joining a cluster"},
		{"consul non-voter with join", []string{"-disco-mode", "consul-kv", "-raft-non-voter", "-join", "127.0.0.1:4002"},
			"disco mode cannot be used when also explicitly joining a cluster"},
		{"consul address with scheme", []string{"-disco-mode", "consul-kv", "-disco-config", `{"address":"http://localhost:8500"}`},
			"-disco-config: address should not contain HTTP or HTTPS"},
		{"bad disco config JSON", []string{"-disco-mode", "etcd-kv", "-disco-config", `{"endpoints":`},
			"-disco-config: etcd-kv disco config"},
		{"reap timeout zero", []string{"-raft-reap-node-timeout", "0h"},
			"-raft-reap-node-timeout must be greater than 0"},
		{"reap timeout negative", []string{"-raft-reap-node-timeout=-1s"},
			"-raft-reap-node-timeout must be greater than 0"},
		{"read-only reap timeout zero", []string{"-raft-reap-read-only-node-timeout", "0s"},
			"-raft-reap-read-only-node-timeout must be greater than 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			args := append([]string{"serve", "-http-addr", "127.0.0.1:0", "-raft-addr", "127.0.0.1:0"}, tt.args...)
			cmd := exec.CommandContext(ctx, rdbBin, append(args, filepath.Join(t.TempDir(), "data"))...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("rdb serve %v: %v, want exit status 1; stderr:\n%s", tt.args, err, stderr.String())
			}
			want := "fatal: " + tt.want
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
			}
		})
	}
}

// TestDisco_BootTimeout: dns discovery that never finds enough voters
// stops the node after -bootstrap-expect-timeout with rqlite's message.
func TestDisco_BootTimeout(t *testing.T) {
	n := newNode(t, "-disco-mode", "dns", "-bootstrap-expect", "3", "-bootstrap-expect-timeout", "3s")
	n.Env = []string{"RQLITE_DISCO_DNS_HOSTS=" + rdbtest.UnusedAddr(t) + "," + rdbtest.UnusedAddr(t)}
	n.Start()
	waitFor(t, readyTimeout, "the node to give up", n.Exited)
	if n.ExitCode() != 1 || !strings.Contains(n.Logs(), "fatal: clustering failure: boot timeout") {
		t.Errorf("exit status %d, logs:\n%s\nwant status 1 and fatal: clustering failure: boot timeout", n.ExitCode(), n.Logs())
	}
}

package shell

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// rdbBin is the rdb binary TestMain builds for the tests that need a real
// node (skipped under -short).
var rdbBin string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if testing.Short() {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "rdb-shell-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if rdbBin, err = rdbtest.Build("..", dir, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// node is one rdb process.
type node = rdbtest.Node

// syncBuffer collects output written from another goroutine.
type syncBuffer = rdbtest.Buffer

// startNode starts a node (joining join, a Raft address, if set; extra
// flags go before the data directory) and waits until it is ready.
func startNode(t *testing.T, join string, extra ...string) *node {
	t.Helper()
	if testing.Short() {
		t.Skip("starts rdb processes")
	}
	args := []string{"-raft-heartbeat-timeout", "200ms", "-raft-election-timeout", "200ms"}
	if join != "" {
		args = append(args, "-join", join)
	}
	return rdbtest.StartNode(t, rdbBin, append(args, extra...)...)
}

var waitFor = rdbtest.WaitFor

// runShell runs a shell session in-process on addrs with input piped in
// and returns its output and exit status.
func runShell(t *testing.T, input string, addrs ...string) (string, int) {
	t.Helper()
	return runShellConfig(t, testConfig(addrs...), input)
}

func testConfig(addrs ...string) Config {
	cfg := DefaultConfig()
	cfg.Client.Addrs = addrs
	cfg.Client.Timeout = 10 * time.Second
	return cfg
}

func runShellConfig(t *testing.T, cfg Config, input string) (string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	code := Run(ctx, cfg, strings.NewReader(input), &out, &errOut)
	return out.String(), code
}

// body strips the welcome lines and the final "bye~" from shell output.
func body(t *testing.T, out string) string {
	t.Helper()
	lines := strings.SplitAfter(out, "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[2], "Connected to ") || out[len(out)-5:] != "bye~\n" {
		t.Fatalf("unexpected session framing:\n%s", out)
	}
	return strings.TrimSuffix(strings.Join(lines[3:], ""), "bye~\n")
}

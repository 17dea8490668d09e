package shell

import (
	"bytes"
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
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
type node struct {
	t        *testing.T
	HTTPAddr string
	RaftAddr string
	cmd      *exec.Cmd
	logs     syncBuffer
	done     chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startNode starts a node (joining join, a Raft address, if set; extra
// flags go before the data directory) and waits until it is ready.
func startNode(t *testing.T, join string, extra ...string) *node {
	t.Helper()
	if testing.Short() {
		t.Skip("starts rdb processes")
	}
	n := &node{t: t, HTTPAddr: freeAddr(t), RaftAddr: freeAddr(t), done: make(chan struct{})}
	args := []string{"serve", "-node-id", n.RaftAddr, "-http-addr", n.HTTPAddr, "-raft-addr", n.RaftAddr,
		"-raft-heartbeat-timeout", "200ms", "-raft-election-timeout", "200ms"}
	if join != "" {
		args = append(args, "-join", join)
	}
	args = append(args, extra...)
	n.cmd = exec.Command(rdbBin, append(args, filepath.Join(t.TempDir(), "data"))...)
	n.cmd.Stdout, n.cmd.Stderr = &n.logs, &n.logs
	if err := n.cmd.Start(); err != nil {
		t.Fatalf("start rdb: %v", err)
	}
	go func() { n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("node %s logs:\n%s", n.HTTPAddr, n.logs.String())
		}
	})
	waitFor(t, 20*time.Second, "node "+n.HTTPAddr+" ready", func() bool {
		resp, err := probeClient.Get(n.scheme() + "://" + n.HTTPAddr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return n
}

// probeClient polls readiness, also of nodes with a test certificate.
var probeClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test certificate

// scheme is https when the node was given a certificate.
func (n *node) scheme() string {
	if slices.Contains(n.cmd.Args, "-http-cert") {
		return "https"
	}
	return "http"
}

// stop sends SIGTERM and kills after 10 s.
func (n *node) stop() {
	select {
	case <-n.done:
		return
	default:
	}
	n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(10 * time.Second):
		n.cmd.Process.Kill()
		<-n.done
	}
}

// waitFor polls cond every 20 ms until it holds or d passes.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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

// Package system_test starts real rdb processes on 127.0.0.1 and talks to
// them over HTTP, as a user or an rqlite client library would.
package system_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// rdbBin is the binary built once by TestMain.
var rdbBin string

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		fmt.Println("system tests skipped in -short mode")
		return 0
	}
	dir, err := os.MkdirTemp("", "rdb-system-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if rdbBin, err = rdbtest.Build("..", dir, os.Getenv("RDB_RACE") != ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// Node is one rdb process under test.
type Node struct {
	t        *testing.T
	Dir      string
	HTTPAddr string
	RaftAddr string
	Args     []string
	// FixedID, when set, is the -node-id instead of one derived from
	// RaftAddr (so a node can come back at a new address).
	FixedID string

	mu   sync.Mutex
	cmd  *exec.Cmd
	logs *bytes.Buffer
	done chan struct{}
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StartNode starts a fresh node with its own data directory and ports and
// waits until it is ready. extra flags go before the data directory.
func StartNode(t *testing.T, extra ...string) *Node {
	t.Helper()
	n := &Node{t: t, Dir: filepath.Join(t.TempDir(), "data"), HTTPAddr: freeAddr(t), RaftAddr: freeAddr(t), Args: extra}
	n.Start()
	t.Cleanup(func() {
		n.Stop()
		if t.Failed() {
			t.Logf("logs of node %s:\n%s", n.HTTPAddr, n.Logs())
		}
	})
	n.WaitReady(20 * time.Second)
	return n
}

// Start launches the process with the node's current flags.
func (n *Node) Start() {
	n.t.Helper()
	args := append([]string{"serve", "-node-id", n.ID(), "-http-addr", n.HTTPAddr, "-raft-addr", n.RaftAddr}, n.Args...)
	args = append(args, n.Dir)
	cmd := exec.Command(rdbBin, args...)
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.logs == nil {
		n.logs = &bytes.Buffer{}
	}
	w := &lockedWriter{mu: &n.mu, w: n.logs}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		n.t.Fatalf("start rdb: %v", err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	done := n.done
	go func() { cmd.Wait(); close(done) }()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Logs returns everything the process (and earlier incarnations) printed.
func (n *Node) Logs() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.logs.String()
}

// Stop sends SIGTERM and waits up to 15 s, then kills.
func (n *Node) Stop() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		n.t.Errorf("node %s did not stop within 15s of SIGTERM; killing it", n.HTTPAddr)
		cmd.Process.Kill()
		<-done
	}
	n.mu.Lock()
	n.cmd = nil
	n.mu.Unlock()
}

// ExitCode is the exit status of the stopped process.
func (n *Node) exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// Restart stops the node gracefully and starts it again on the same
// directory and ports.
func (n *Node) Restart() {
	n.t.Helper()
	n.Stop()
	n.Start()
	n.WaitReady(20 * time.Second)
}

// WaitReady polls /readyz until it answers 200.
func (n *Node) WaitReady(d time.Duration) {
	n.t.Helper()
	waitFor(n.t, d, "node "+n.HTTPAddr+" ready", func() bool {
		if n.exited() {
			n.t.Fatalf("node %s exited during start-up:\n%s", n.HTTPAddr, n.Logs())
		}
		code, _, err := n.Do("GET", "/readyz", "", "")
		return err == nil && code == http.StatusOK
	})
}

var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Do sends one request and returns status and body.
func (n *Node) Do(method, path, contentType, body string) (int, string, error) {
	code, _, b, err := n.DoHeader(method, path, contentType, body)
	return code, b, err
}

// DoHeader is Do that also returns the response headers.
func (n *Node) DoHeader(method, path, contentType, body string) (int, http.Header, string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+n.HTTPAddr+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, "", err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b), err
}

// Execute posts a JSON body to /db/execute and fails the test unless 200.
func (n *Node) Execute(path, body string) string {
	n.t.Helper()
	return n.mustPost(path, body)
}

func (n *Node) mustPost(path, body string) string {
	n.t.Helper()
	code, b, err := n.Do("POST", path, "application/json", body)
	if err != nil {
		n.t.Fatalf("POST %s: %v", path, err)
	}
	if code != http.StatusOK {
		n.t.Fatalf("POST %s %s: status %d, body %q", path, body, code, b)
	}
	return b
}

// Query runs GET /db/query?q=… and fails the test unless 200.
func (n *Node) Query(q string, params string) string {
	n.t.Helper()
	path := "/db/query?q=" + urlEscape(q)
	if params != "" {
		path += "&" + params
	}
	code, b, err := n.Do("GET", path, "", "")
	if err != nil || code != http.StatusOK {
		n.t.Fatalf("GET %s: status %d, err %v, body %q", path, code, err, b)
	}
	return b
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '_', c == '.':
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
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

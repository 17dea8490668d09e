package rdbtest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// AnyPort is the address a new node binds: loopback, port chosen by the
// system. The node reports the port it got, and keeps it across restarts.
const AnyPort = "127.0.0.1:0"

// ReadyTimeout bounds how long StartNode waits for a node to become ready.
const ReadyTimeout = 20 * time.Second

// stopTimeout is how long Stop waits after SIGTERM before it kills.
const stopTimeout = 15 * time.Second

// Node is one `rdb serve` process under test, and its data directory.
type Node struct {
	t   testing.TB
	bin string
	// Dir is the data directory; it outlives restarts.
	Dir string
	// HTTPAddr and RaftAddr are the bind addresses: AnyPort until the
	// first Start, then the addresses the process reported. Set one to
	// AnyPort again to restart the node at a new address.
	HTTPAddr string
	RaftAddr string
	// Args are extra flags; they go before the data directory.
	Args []string
	// Env, if set, is added to the test's environment for the process
	// ("NAME=value" items).
	Env []string

	mu       sync.Mutex
	id       string
	exitCode int
	cmd      *exec.Cmd
	logs     bytes.Buffer
	done     chan struct{}
}

// NewNode prepares a node running bin with extra flags, without starting
// it. t.Cleanup stops it and, if the test failed, prints its logs.
func NewNode(t testing.TB, bin string, extra ...string) *Node {
	t.Helper()
	n := &Node{t: t, bin: bin, Dir: filepath.Join(t.TempDir(), "data"), HTTPAddr: AnyPort, RaftAddr: AnyPort,
		Args: slices.Clone(extra)}
	t.Cleanup(func() {
		n.Stop()
		if t.Failed() {
			t.Logf("logs of node %s (%s):\n%s", n.ID(), n.HTTPAddr, n.Logs())
		}
	})
	return n
}

// StartNode is NewNode, Start and WaitReady(ReadyTimeout).
func StartNode(t testing.TB, bin string, extra ...string) *Node {
	t.Helper()
	n := NewNode(t, bin, extra...)
	n.Start()
	n.WaitReady(ReadyTimeout)
	return n
}

// ID is the node's ID: the one it reported on its first start (its Raft
// address, unless Args set -node-id), kept across restarts.
func (n *Node) ID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

// Start launches the process and waits until it has bound its ports and
// reported its addresses, or has exited.
func (n *Node) Start() {
	n.t.Helper()
	args := []string{"serve"}
	if id := n.ID(); id != "" {
		args = append(args, "-node-id", id)
	}
	args = append(args, "-http-addr", n.HTTPAddr, "-raft-addr", n.RaftAddr)
	cmd := exec.Command(n.bin, append(append(args, n.Args...), n.Dir)...)
	if len(n.Env) > 0 {
		cmd.Env = append(os.Environ(), n.Env...)
	}
	n.mu.Lock()
	from := n.logs.Len()
	w := &lockedWriter{mu: &n.mu, w: &n.logs}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		n.mu.Unlock()
		n.t.Fatalf("start rdb: %v", err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	done := n.done
	n.mu.Unlock()
	go func() {
		cmd.Wait()
		n.mu.Lock()
		n.exitCode = cmd.ProcessState.ExitCode()
		n.mu.Unlock()
		close(done)
	}()
	WaitFor(n.t, ReadyTimeout, "node "+n.Dir+" to report its addresses", func() bool {
		return n.readAddrs(from) || n.Exited()
	})
}

// readAddrs takes the node ID and addresses from the "listening" line the
// process logged after offset from, and reports whether it found it.
func (n *Node) readAddrs(from int) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(n.logs.Bytes()[from:]))
	for sc.Scan() {
		kv := logFields(sc.Text())
		if kv["msg"] != "listening" {
			continue
		}
		n.id, n.HTTPAddr, n.RaftAddr = kv["node_id"], kv["http"], kv["raft"]
		return true
	}
	return false
}

// logFields splits a log/slog text line into its keys and values.
func logFields(line string) map[string]string {
	kv := map[string]string{}
	for line != "" {
		k, rest, ok := strings.Cut(line, "=")
		if !ok {
			break
		}
		v := rest
		if strings.HasPrefix(rest, `"`) {
			if q, err := strconv.QuotedPrefix(rest); err == nil {
				v, _ = strconv.Unquote(q)
				rest = rest[len(q):]
			}
		} else {
			v, rest, _ = strings.Cut(rest, " ")
		}
		kv[k] = v
		line = strings.TrimLeft(rest, " ")
	}
	return kv
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

// Stop sends SIGTERM and waits for the process to exit; after stopTimeout
// it fails the test and kills the process.
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
	case <-time.After(stopTimeout):
		n.t.Errorf("node %s did not stop within %s of SIGTERM; killing it", n.HTTPAddr, stopTimeout)
		cmd.Process.Kill()
		<-done
	}
	n.mu.Lock()
	n.cmd = nil
	n.mu.Unlock()
}

// Kill sends SIGKILL and waits for the process to die.
func (n *Node) Kill() {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd = nil
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	cmd.Process.Kill()
	<-done
}

// Restart stops the node gracefully and starts it again on the same
// directory, ports and ID.
func (n *Node) Restart() {
	n.t.Helper()
	n.Stop()
	n.Start()
	n.WaitReady(ReadyTimeout)
}

// Exited reports whether the last started process has exited.
func (n *Node) Exited() bool {
	n.mu.Lock()
	done := n.done
	n.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// ExitCode is the exit status of the last process once it has exited
// (-1 if a signal ended it).
func (n *Node) ExitCode() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.exitCode
}

// Running reports whether the node's process is up.
func (n *Node) Running() bool {
	n.mu.Lock()
	running := n.cmd != nil
	n.mu.Unlock()
	return running && !n.Exited()
}

// URL is the node's HTTP API base URL: https when Args give -http-cert.
func (n *Node) URL() string {
	if slices.Contains(n.Args, "-http-cert") {
		return "https://" + n.HTTPAddr
	}
	return "http://" + n.HTTPAddr
}

// probeClient polls readiness, also of nodes with a test certificate.
var probeClient = &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // test certificates

// WaitReady polls URL()/readyz until it answers 200, failing the test at
// once if the process exits.
func (n *Node) WaitReady(d time.Duration) {
	n.t.Helper()
	WaitFor(n.t, d, "node "+n.HTTPAddr+" ready", func() bool {
		if n.Exited() {
			n.t.Fatalf("node %s exited during start-up:\n%s", n.HTTPAddr, n.Logs())
		}
		resp, err := probeClient.Get(n.URL() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}

// client does not follow redirects, so tests see them.
var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Do sends one plain-HTTP request and returns status and body.
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

// Execute posts a JSON body to path and fails the test unless 200.
func (n *Node) Execute(path, body string) string {
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

// Query runs GET /db/query?q=… (plus params) and fails the test unless 200.
func (n *Node) Query(q string, params string) string {
	n.t.Helper()
	path := "/db/query?q=" + QueryEscape(q)
	if params != "" {
		path += "&" + params
	}
	code, b, err := n.Do("GET", path, "", "")
	if err != nil || code != http.StatusOK {
		n.t.Fatalf("GET %s: status %d, err %v, body %q", path, code, err, b)
	}
	return b
}

// QueryEscape percent-encodes everything but letters, digits and -_. .
func QueryEscape(s string) string {
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

// handedOut holds every address UnusedAddr returned in this process: the
// kernel may hand out a port it just released, which gave two nodes of one
// cluster the same address.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// UnusedAddr returns a loopback address nothing listened on a moment ago,
// never the same one twice. Another process may take it at any time: use
// it only where an address must be known before its node starts (nodes
// given each other's addresses at once), or for one nothing listens on.
func UnusedAddr(t testing.TB) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for range 100 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		a := ln.Addr().String()
		ln.Close()
		if !handedOut.addrs[a] {
			handedOut.addrs[a] = true
			return a
		}
	}
	t.Fatal("no unused loopback port in 100 tries")
	return ""
}

// Pid is the process ID of the running process, 0 if none runs.
func (n *Node) Pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

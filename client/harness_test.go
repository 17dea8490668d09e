package client_test

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// nodeAddr is the node the tests and Example talk to: a real rdb process
// built and started by TestMain, or under -short a fake answering the
// Example's two requests.
var nodeAddr string

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if testing.Short() {
		srv := httptest.NewServer(http.HandlerFunc(exampleFake))
		defer srv.Close()
		nodeAddr = strings.TrimPrefix(srv.URL, "http://")
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "rdb-client-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	stop, err := startRealNode(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer stop()
	return m.Run()
}

// startRealNode builds rdb, starts one node and waits for /readyz.
func startRealNode(dir string) (func(), error) {
	bin, err := rdbtest.Build("..", dir, false)
	if err != nil {
		return nil, err
	}
	httpAddr, raftAddr := loopbackAddr(), loopbackAddr()
	cmd := exec.Command(bin, "serve", "-http-addr", httpAddr, "-raft-addr", raftAddr, filepath.Join(dir, "data"))
	logs, err := os.Create(filepath.Join(dir, "node.log"))
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start rdb: %w", err)
	}
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logs.Close()
	}
	nodeAddr = httpAddr
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get("http://" + httpAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return stop, nil
			}
		}
	}
	stop()
	b, _ := os.ReadFile(filepath.Join(dir, "node.log"))
	return nil, fmt.Errorf("node %s not ready after 20s:\n%s", httpAddr, b)
}

func loopbackAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err) // broken test machine
	}
	defer ln.Close()
	return ln.Addr().String()
}

// exampleFake answers the Example's requests as a node would.
func exampleFake(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/db/execute":
		io.WriteString(w, `{"results":[{},{},{"last_insert_id":1,"rows_affected":1}]}`)
	case "/db/query":
		io.WriteString(w, `{"results":[{"columns":["name","age"],"types":["text","integer"],"values":[["fido",3]]}]}`)
	default:
		http.NotFound(w, r)
	}
}

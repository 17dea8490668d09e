package client_test

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

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
	n, stop, err := rdbtest.StartMainNode(bin, dir)
	if err != nil {
		return nil, err
	}
	nodeAddr = n.HTTPAddr
	return stop, nil
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

// Package system_test starts real rdb processes on 127.0.0.1 and talks to
// them over HTTP, as a user or an rqlite client library would.
package system_test

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/rdb/rdb/internal/rdbtest"
)

// rdbBin is the binary built once by TestMain, in buildDir.
var rdbBin, buildDir string

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
	buildDir = dir
	if rdbBin, err = rdbtest.Build("..", dir, os.Getenv("RDB_RACE") != ""); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// Node is one rdb process under test.
type Node = rdbtest.Node

// storeStatus is the part of /status?key=store the tests read.
type storeStatus = rdbtest.StoreStatus

// The harness's helpers under the short names the tests use.
var (
	waitFor      = rdbtest.WaitFor
	waitUntil    = rdbtest.WaitUntil
	stopAll      = rdbtest.StopAll
	ids          = rdbtest.IDs
	others       = rdbtest.Others
	agreedLeader = rdbtest.AgreedLeader
	waitLeader   = rdbtest.WaitLeader
	urlEscape    = rdbtest.QueryEscape
)

// client does not follow redirects, so tests see them.
var client = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// StartNode starts a fresh node with its own data directory and ports and
// waits until it is ready. extra flags go before the data directory.
func StartNode(t *testing.T, extra ...string) *Node {
	t.Helper()
	return rdbtest.StartNode(t, rdbBin, extra...)
}

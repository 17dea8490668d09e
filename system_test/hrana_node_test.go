package system_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// libsqlClientVersion is the @libsql/client release HRANA.md was written
// against.
const libsqlClientVersion = "0.18.0"

// needNode skips (or, with RDB_REQUIRE_NODE=1 as .ci/run sets, fails)
// when node or npm is missing.
func needNode(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("RDB_REQUIRE_NODE") == "1" {
		t.Fatalf("RDB_REQUIRE_NODE=1 but %s", why)
	}
	t.Skipf("skipped: %s (set RDB_REQUIRE_NODE=1 to make this a failure)", why)
}

// TestHrana_NodeClient runs testdata/libsql_client.mjs with
// @libsql/client, installed from npm into a temp dir, against a follower
// of a 3-node cluster (Acceptance 2 of issue 11).
func TestHrana_NodeClient(t *testing.T) {
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			needNode(t, tool+" is not installed")
		}
	}
	dir := t.TempDir()
	script, err := os.ReadFile(filepath.Join("testdata", "libsql_client.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"name":"rdb-hrana-test","private":true,"type":"module"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "libsql_client.mjs"), script, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	install := exec.CommandContext(ctx, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", "@libsql/client@"+libsqlClientVersion)
	install.Dir = dir
	if out, err := install.CombinedOutput(); err != nil {
		needNode(t, "npm could not install @libsql/client (registry unreachable?): "+err.Error()+": "+strings.TrimSpace(string(out)))
	}
	_, _, follower := hranaCluster(t)
	run := exec.CommandContext(ctx, "node", "libsql_client.mjs", follower.URL())
	run.Dir = dir
	out, err := run.CombinedOutput()
	if err != nil || !strings.HasSuffix(strings.TrimSpace(string(out)), "OK") {
		t.Fatalf("node client: %v\n%s", err, out)
	}
}

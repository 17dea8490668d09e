// Package rdbtest is the harness shared by the tests that run real rdb
// processes (system_test, shell, client): it builds the binary, starts,
// stops, kills and restarts nodes on ports the system chooses, and polls
// for conditions. It is for tests only.
package rdbtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build compiles <root>/cmd/rdb into dir and returns the binary's path;
// root is the module root as seen from the test's package directory
// (".." for the repo's top-level packages). race builds with the race
// detector (which needs cgo); otherwise CGO_ENABLED=0 as in production.
// Call it once per test binary, from TestMain.
func Build(root, dir string, race bool) (string, error) {
	return BuildTags(root, dir, race, "")
}

// BuildTags is Build with build tags (comma-separated; "" for none), for
// binaries with test-only switches compiled in. The binary is named after
// the tags, so both kinds can sit in one dir.
func BuildTags(root, dir string, race bool, tags string) (string, error) {
	bin := filepath.Join(dir, "rdb")
	args := []string{"build", "-o", bin}
	if tags != "" {
		bin = filepath.Join(dir, "rdb-"+strings.ReplaceAll(tags, ",", "-"))
		args = []string{"build", "-tags", tags, "-o", bin}
	}
	cgo := "0"
	if race {
		args, cgo = append(args, "-race"), "1"
	}
	cmd := exec.Command("go", append(args, filepath.Join(root, "cmd", "rdb"))...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED="+cgo)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build rdb: %v\n%s", err, out)
	}
	return bin, nil
}

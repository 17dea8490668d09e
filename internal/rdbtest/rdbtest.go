// Package rdbtest is shared by the tests that run real rdb processes
// (system_test, shell, client): it builds the binary in a way go test's
// result cache can see. It is for tests only.
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
//
// It first stats every Go source and module file under root: go test
// caches a package's result keyed on the files the test looked at, and
// these tests exercise a binary built from the whole module, so looking
// at its sources makes any change to them invalidate a cached pass.
func Build(root, dir string, race bool) (string, error) {
	if err := statSources(root); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "rdb")
	args := []string{"build", "-o", bin}
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

func statSources(root string) error {
	return filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if n := d.Name(); !d.IsDir() && (strings.HasSuffix(n, ".go") || n == "go.mod" || n == "go.sum") {
			_, err = os.Stat(p)
		}
		return err
	})
}

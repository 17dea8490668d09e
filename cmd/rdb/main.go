// Command rdb is the rdb database: `rdb serve` runs a node, `rdb shell` is
// the interactive client. Invoked as `rqlited` it behaves as `rdb serve`, as
// `rqlite` as `rdb shell`, so rqlite's tooling and test suites can drive it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	os.Exit(run(os.Args, os.Stdout, os.Stderr))
}

// run dispatches on the program name and first argument and returns the
// process exit status.
func run(args []string, stdout, stderr io.Writer) int {
	prog := filepath.Base(args[0])
	rest := args[1:]
	switch {
	case prog == "rqlited":
		return serveMain(prog, rest, true, stdout, stderr)
	case prog == "rqlite":
		return shellMain(prog, rest, stdout, stderr)
	case len(rest) > 0 && strings.HasPrefix(rest[0], "-") && !isHelpFlag(rest[0]) && !isVersionFlag(rest[0]):
		return serveMain(prog, rest, false, stdout, stderr)
	}
	if len(rest) == 0 {
		usage(stderr)
		return 2
	}
	switch cmd := rest[0]; {
	case cmd == "serve":
		return serveMain(prog+" serve", rest[1:], false, stdout, stderr)
	case cmd == "shell":
		return shellMain(prog+" shell", rest[1:], stdout, stderr)
	case cmd == "bench":
		return benchMain(prog+" bench", rest[1:], stdout, stderr)
	case cmd == "version" || isVersionFlag(cmd):
		fmt.Fprintln(stdout, versionString())
		return 0
	case cmd == "help" || isHelpFlag(cmd):
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "rdb: unknown command %q\n\n", cmd)
		usage(stderr)
		return 2
	}
}

func isHelpFlag(s string) bool {
	return s == "-h" || s == "--help" || s == "-help"
}

func isVersionFlag(s string) bool {
	return s == "-version" || s == "--version" || s == "-v"
}

func usage(w io.Writer) {
	fmt.Fprint(w, `rdb is a Raft-replicated SQL database built on SQLite, compatible with
rqlite's HTTP API, clients and shell.

Usage:
  rdb serve [flags] [DATA_DIR]   run a node (HTTP API on localhost:4001 by default)
  rdb shell [flags]              interactive SQL client
  rdb bench [flags]              load generator for rdb or rqlite clusters
  rdb version                    print the version
  rdb help                       this text

Run 'rdb serve --help' for the node's flags and 'rdb bench --help' for the
load generator's. Invoked as 'rqlited' rdb acts as 'rdb serve'; invoked as
'rqlite' it acts as 'rdb shell'.
`)
}

// serveMain parses the serve flags and runs a node until a signal.
func serveMain(name string, args []string, dataRequired bool, stdout, stderr io.Writer) int {
	cfg, err := parseServeFlags(name, args, dataRequired, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "fatal: %v\n", err)
		return 1
	}
	if cfg.ShowVersion {
		fmt.Fprintln(stdout, versionString())
		return 0
	}
	if err := serve(cfg, stderr); err != nil {
		fmt.Fprintf(stderr, "fatal: %v\n", err)
		return 1
	}
	return 0
}

// shellMain is the interactive client (cmd/rdb/shell.go, package shell).
func shellMain(name string, args []string, stdout, stderr io.Writer) int {
	return runShell(name, args, os.Stdin, stdout, stderr)
}

package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set at build time with -ldflags "-X main.version=v1.2.3 -X main.commit=… -X main.buildTime=…".
var (
	version   = "v0.1.0-dev"
	commit    = "unknown"
	buildTime = "unknown"
)

// buildCommit prefers the linker-provided commit, then the VCS stamp Go
// embeds in module builds.
func buildCommit() string {
	if commit != "unknown" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return commit
}

func versionString() string {
	return fmt.Sprintf("rdb %s (commit %s, built %s, %s %s/%s)", version, buildCommit(), buildTime,
		runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

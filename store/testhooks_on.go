//go:build rdb_testhooks

package store

import (
	"log/slog"
	"os"
)

// loadTestHooks reads the test switches from the environment; this file
// is only compiled with -tags rdb_testhooks.
func loadTestHooks() testHooks {
	h := testHooks{
		noConfirm: os.Getenv("RDB_TEST_UNSAFE_LINEARIZABLE_NO_CONFIRM") == "1",
		skipMatch: os.Getenv("RDB_TEST_UNSAFE_SKIP_ENTRY_MATCH"),
	}
	if h.noConfirm || h.skipMatch != "" {
		slog.Warn("UNSAFE test switches on: this binary breaks consistency on purpose",
			"linearizable_no_confirm", h.noConfirm, "skip_entry_match", h.skipMatch)
	}
	return h
}

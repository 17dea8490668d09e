//go:build !rdb_testhooks

package store

// loadTestHooks: production builds have no test switches.
func loadTestHooks() testHooks { return testHooks{} }

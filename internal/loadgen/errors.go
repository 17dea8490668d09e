package loadgen

import "errors"

var (
	// ErrUnreachable is returned when a URL cannot be connected to.
	ErrUnreachable = errors.New("unreachable")

	// ErrNotRqlite is returned when a URL answers, but not as rqlite's
	// HTTP API does.
	ErrNotRqlite = errors.New("not an rqlite-compatible HTTP API")

	// ErrAllFailed is returned by Run when a workload had no successful
	// request at all.
	ErrAllFailed = errors.New("every request failed")
)

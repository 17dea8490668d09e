package cdc

import "errors"

// Configuration errors; texts follow rqlite's where it has one.
var (
	// ErrUnsupportedScheme is an endpoint that is neither http(s) nor
	// stdout.
	ErrUnsupportedScheme = errors.New("cdc: unsupported scheme")
	// ErrNoEndpoint is a config file without an endpoint.
	ErrNoEndpoint = errors.New("cdc: endpoint is required")
	// ErrNonVoter refuses CDC on a non-voting node (rqlite's text).
	ErrNonVoter = errors.New("CDC cannot be enabled on non-voting nodes")
)

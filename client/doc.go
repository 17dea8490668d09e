// Package client is the Go client for rdb (and rqlite): it speaks the HTTP
// JSON API of API.md to one node, failing over to alternate addresses when
// the node is unreachable, following redirects itself (with the request
// body), and sending Basic-auth credentials and TLS settings on every call.
//
// It owns request construction, fail-over and the typed decoding of
// responses (Response, Result, Node). It must not interpret results (that is
// the caller's job), print anything, or import any other rdb package: it is
// what a Go program imports to talk to a cluster, and what `rdb shell` is
// built on.
//
// Statement errors are values: Execute/Query/Request return a nil error when
// the node answered, and each Result carries its own Error. A returned error
// means the request itself failed: *StatusError for an unexpected HTTP
// status (errors.Is(err, ErrUnauthorized) for 401), *UnreachableError when
// no address answered.
package client

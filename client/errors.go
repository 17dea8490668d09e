package client

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrUnauthorized is matched (errors.Is) by a *StatusError for HTTP 401:
	// the credentials are missing, wrong, or lack the permission.
	ErrUnauthorized = errors.New("client: unauthorized")

	// ErrNoAddress is returned by Config.Validate when no address is given.
	ErrNoAddress = errors.New("client: no node address")

	// ErrBadScheme is returned by Config.Validate for a scheme other than
	// http or https.
	ErrBadScheme = errors.New("client: scheme must be http or https")

	// ErrTooManyRedirects is returned after more than MaxRedirects hops.
	ErrTooManyRedirects = errors.New("client: too many redirects")
)

// StatusError is an HTTP response whose status the call did not expect.
type StatusError struct {
	Code   int    // e.g. 503
	Status string // e.g. "503 Service Unavailable"
	Body   string // response body, trimmed
}

// Error reads "server responded with 503 Service Unavailable: leader not found".
func (e *StatusError) Error() string {
	msg := "server responded with " + e.Status
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Is makes errors.Is(err, ErrUnauthorized) true for a 401.
func (e *StatusError) Is(target error) bool {
	return target == ErrUnauthorized && e.Code == 401
}

// UnreachableError means no address answered: every one was tried once.
type UnreachableError struct {
	URLs []string // base URLs tried, in order
	Err  error    // the last transport error
}

// Error says which nodes could not be reached and why, in plain words.
func (e *UnreachableError) Error() string {
	return fmt.Sprintf("unable to connect to %s: %s", strings.Join(e.URLs, ", "), Explain(e.Err))
}

// Unwrap returns the last transport error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// explainedError is a transport error shown in plain words, keeping the
// original for errors.Is/As.
type explainedError struct {
	op  string // "POST http://host:4001/db/execute"
	err error
}

func (e *explainedError) Error() string { return e.op + ": " + Explain(e.err) }
func (e *explainedError) Unwrap() error { return e.err }

package cluster

import (
	"context"
	"errors"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// errCode tags an error on the wire so the caller can restore the sentinel
// behind it. Values are part of the wire format: append, never renumber.
type errCode uint16

// wireErrors maps codes to sentinels; the first sentinel an error matches
// (errors.Is) gives its code, so more specific sentinels come first.
var wireErrors = []struct {
	code errCode
	err  error
}{
	{1, store.ErrNotLeader},
	{2, store.ErrLeaderNotFound},
	{3, store.ErrNotOpen},
	{4, store.ErrNotReady},
	{5, store.ErrStaleRead},
	{6, store.ErrApplyTimeout},
	{7, store.ErrFSMTimeout},
	{8, db.ErrDisallowedPragma},
	{9, db.ErrQueryWrite},
	{10, db.ErrUnsupportedType},
	{11, db.ErrClosed},
	{12, ErrFrameTooLarge},
	{13, ErrUnknownOp},
	{14, context.DeadlineExceeded},
	{15, context.Canceled},
	{16, ErrInvalidRequest},
	{17, ErrNodeTimeout},
	{18, store.ErrNodeNotFound},
	{19, store.ErrStepdownSelf},
	{20, ErrUnauthorized},
	{21, db.ErrDisallowedStatement},
	// The entry may or may not commit: the forwarder must not retry it.
	{22, store.ErrLeadershipLost},
	{23, store.ErrEnqueueTimeout},
}

// wireError is an error on the wire: its full text, and the code of the
// sentinel it wrapped (0 for none).
type wireError struct {
	Code errCode
	Msg  string
}

func toWireError(err error) *wireError {
	if err == nil {
		return nil
	}
	w := &wireError{Msg: err.Error()}
	for _, e := range wireErrors {
		if errors.Is(err, e.err) {
			w.Code = e.code
			break
		}
	}
	return w
}

// remoteError is an error returned by another node. Its text is the
// remote text; errors.Is matches the sentinel the remote error wrapped.
type remoteError struct {
	msg      string
	sentinel error
}

func (e *remoteError) Error() string { return e.msg }
func (e *remoteError) Unwrap() error { return e.sentinel }

func (w *wireError) err() error {
	re := &remoteError{msg: w.Msg}
	for _, e := range wireErrors {
		if e.code == w.Code {
			re.sentinel = e.err
			break
		}
	}
	return re
}

package db

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"modernc.org/sqlite"
)

// Per-statement timeout texts (API.md §1.2 db_timeout).
const (
	queryTimeoutText   = "query timeout"
	executeTimeoutText = "execute timeout"
)

// errorText renders a statement error the way rqlite (mattn/go-sqlite3)
// does: the bare sqlite3_errmsg text, e.g. `near "blah": syntax error`.
// modernc decorates it as "<errstr>: <errmsg> (<code>)", which is undone
// here; sqlite3_errstr texts never contain a colon. A context deadline
// becomes timeoutText.
func errorText(err error, timeoutText string) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return timeoutText
	}
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err.Error()
	}
	msg := strings.TrimSuffix(se.Error(), " (SQLITE_BUSY)")
	msg = strings.TrimSuffix(msg, " ("+strconv.Itoa(se.Code())+")")
	if _, after, ok := strings.Cut(msg, ": "); ok {
		return after
	}
	return msg
}

// textError shows errorText's wording but keeps the errors behind it for
// errors.Is and errors.As.
type textError struct {
	msg  string
	errs []error
}

func (e *textError) Error() string   { return e.msg }
func (e *textError) Unwrap() []error { return e.errs }

// wrapText is errorText as an error that still matches err and, when ctx
// ended (SQLite reports an interrupt without saying why), ctx's error.
func wrapText(ctx context.Context, err error, timeoutText string) error {
	errs := []error{err}
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		errs = append(errs, cerr)
	}
	msg := errorText(err, timeoutText)
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		msg = timeoutText
	}
	return &textError{msg: msg, errs: errs}
}

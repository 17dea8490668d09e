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

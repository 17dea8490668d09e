package hrana

import (
	"errors"
	"net/http"
	"strings"
)

// Error codes of the contract (HRANA.md §8) that rdb sends.
const (
	codeParse         = "SQL_PARSE_ERROR"
	codeInput         = "SQL_INPUT_ERROR"
	codeNoStatement   = "SQL_NO_STATEMENT"
	codeManyStmts     = "SQL_MANY_STATEMENTS"
	codeArgsInvalid   = "ARGS_INVALID"
	codeArgsBoth      = "ARGS_BOTH_POSITIONAL_AND_NAMED"
	codeStoreTooMany  = "SQL_STORE_TOO_MANY"
	codeStoreTooLarge = "SQL_STORE_TOO_LARGE"
	codeStreamExpired = "STREAM_EXPIRED"
	codeTxTimeout     = "TRANSACTION_TIMEOUT"
	codeBusy          = "SQLITE_BUSY"
	codeProtocol      = "PROTOCOL_ERROR"
	codeUnauthorized  = "UNAUTHORIZED"
	codeNotLeader     = "PROXY_ERROR"
)

// Limits on stored SQL texts (sqld's, HRANA.md §4).
const (
	maxStoredSQL    = 50
	maxStoredSQLLen = 5000
)

var (
	// ErrStreamExpired answers a baton whose stream ended (idle expiry,
	// close, an aborted transaction, a restart).
	errStreamExpired = errors.New("the stream has expired or was closed")
	errBadBaton      = errors.New("invalid baton")
)

// httpError is a failure of the whole pipeline: the stream is gone. It
// renders as {"message","code","error"} with its status (HRANA.md §2).
type httpError struct {
	status  int
	message string
	code    string
}

func (e *httpError) Error() string { return e.message }

func protocolError(msg string) *httpError {
	return &httpError{status: http.StatusBadRequest, message: msg, code: codeProtocol}
}

// sqliteCodes maps SQLite's error texts (the database reports texts,
// not codes, as rqlite does) to the base result code names clients test
// (HRANA.md §8); checked in order, first match wins.
var sqliteCodes = []struct{ substr, code string }{
	{"constraint failed", "SQLITE_CONSTRAINT"},
	{"database is locked", "SQLITE_BUSY"},
	{"database table is locked", "SQLITE_LOCKED"},
	{"readonly database", "SQLITE_READONLY"},
	{"datatype mismatch", "SQLITE_MISMATCH"},
	{"column index out of range", "SQLITE_RANGE"},
	{"too big", "SQLITE_TOOBIG"},
	{"interrupted", "SQLITE_INTERRUPT"},
	{"timeout", "SQLITE_INTERRUPT"},
	{"attempt to change database via query", "SQLITE_READONLY"},
	{"query result too large", "RESPONSE_TOO_LARGE"},
	{"no transaction is active", "SQLITE_ERROR"},
	{"disk I/O error", "SQLITE_IOERR"},
	{"database disk image is malformed", "SQLITE_CORRUPT"},
	{"out of memory", "SQLITE_NOMEM"},
	{"database or disk is full", "SQLITE_FULL"},
}

// stmtError is a statement's failure as a Hrana Error.
func stmtError(msg string) *protoError {
	for _, c := range sqliteCodes {
		if strings.Contains(msg, c.substr) {
			return &protoError{Message: msg, Code: c.code}
		}
	}
	return &protoError{Message: msg, Code: "SQLITE_ERROR"}
}

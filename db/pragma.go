package db

import (
	"fmt"
	"regexp"
	"strings"
)

// disallowedPragmaRE matches, at the start of a statement, a PRAGMA that
// would change how the database is journaled or synced behind Raft's back
// (API.md §3.1), lock out the read pool (locking_mode), let SQL corrupt
// the schema (writable_schema) or point SQLite at other directories
// (temp_store_directory, data_store_directory). Besides rqlite's
// "name =" forms it also refuses the equivalent "name(value)" forms.
var disallowedPragmaRE = regexp.MustCompile(`(?i)^\s*pragma\s+` +
	`(?:(?:"[^"]*"|\w+)\s*\.\s*)?` +
	`(?:(?:journal_mode|synchronous|query_only|wal_autocheckpoint|locking_mode|writable_schema|` +
	`temp_store_directory|data_store_directory)\s*[=(]|wal_checkpoint\b)`)

// disallowedStatementRE matches, at the start of a statement, ATTACH (of
// any file, so SQL cannot read or create files on every node) and VACUUM
// INTO (which writes a file on every node).
var disallowedStatementRE = regexp.MustCompile(`(?i)^\s*(?:attach\b|vacuum\s+(?:(?:"[^"]*"|\w+)\s+)?into\b)`)

// CheckRequest rejects a request containing a disallowed PRAGMA
// (ErrDisallowedPragma), ATTACH or VACUUM INTO (ErrDisallowedStatement),
// or an unsupported parameter (ErrUnsupportedType). load_extension needs
// no check: SQLite refuses it on every connection ("not authorized").
// Every SQL statement inside a multi-statement string is checked, and
// leading comments do not hide a PRAGMA.
func CheckRequest(req *Request) error {
	for _, st := range req.Statements {
		pieces := []string{st.SQL}
		if strings.ContainsRune(st.SQL, ';') {
			pieces = splitStatements(st.SQL)
		}
		for _, p := range pieces {
			if !checkedKeyword(p) {
				continue
			}
			sql := skipTrivia(p)
			if disallowedPragmaRE.MatchString(sql) {
				return ErrDisallowedPragma
			}
			if disallowedStatementRE.MatchString(sql) {
				return ErrDisallowedStatement
			}
		}
		for _, prm := range st.Parameters {
			switch prm.Value.(type) {
			case nil, int64, float64, string, []byte, bool:
			default:
				return fmt.Errorf("%w: %T", ErrUnsupportedType, prm.Value)
			}
		}
	}
	return nil
}

// skipTrivia drops leading whitespace and comments.
func skipTrivia(s string) string {
	for i := 0; i < len(s); {
		kind, n := scanToken(s[i:])
		if kind != tkSpace && kind != tkComment {
			return s[i:]
		}
		i += n
	}
	return ""
}

// checkedKeyword reports whether statement s starts with a keyword the
// patterns above look at (PRAGMA, ATTACH, VACUUM), so the common INSERT
// or SELECT skips the regular expressions.
func checkedKeyword(s string) bool {
	w := leadingWord(s)
	return strings.EqualFold(w, "pragma") || strings.EqualFold(w, "attach") || strings.EqualFold(w, "vacuum")
}

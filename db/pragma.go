package db

import (
	"fmt"
	"regexp"
)

// disallowedPragmaRE matches, at the start of a statement, a PRAGMA that
// would change how the database is journaled or synced behind Raft's back
// (API.md §3.1). Besides rqlite's "name =" forms it also refuses the
// equivalent "name(value)" forms.
var disallowedPragmaRE = regexp.MustCompile(`(?i)^\s*pragma\s+` +
	`(?:(?:"[^"]*"|\w+)\s*\.\s*)?` +
	`(?:(?:journal_mode|synchronous|query_only|wal_autocheckpoint)\s*[=(]|wal_checkpoint\b)`)

// CheckRequest rejects a request containing a disallowed PRAGMA
// (ErrDisallowedPragma) or an unsupported parameter (ErrUnsupportedType).
// Every SQL statement inside a multi-statement string is checked, and
// leading comments do not hide a PRAGMA.
func CheckRequest(req *Request) error {
	for _, st := range req.Statements {
		for _, p := range splitStatements(st.SQL) {
			if disallowedPragmaRE.MatchString(skipTrivia(p)) {
				return ErrDisallowedPragma
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

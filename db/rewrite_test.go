package db

import (
	"errors"
	"regexp"
	"testing"
)

func TestRewrite(t *testing.T) {
	const jd = `2\d{6}(\.\d+)?` // a Julian day number
	tests := []struct {
		name     string
		sql      string
		noRandom bool
		noTime   bool
		want     string // regexp matched against the whole output
	}{
		{"random", "SELECT RANDOM()", false, false, `^SELECT \d+$`},
		{"random lower, spaces", "SELECT random( ) + 1", false, false, `^SELECT \d+ \+ 1$`},
		{"norandom", "SELECT RANDOM()", true, false, `^SELECT RANDOM\(\)$`},
		{"random in order by", "SELECT * FROM t ORDER BY RANDOM() LIMIT 1", false, false, `^SELECT \* FROM t ORDER BY RANDOM\(\) LIMIT 1$`},
		{"random after order by subquery", "SELECT (SELECT x FROM t ORDER BY RANDOM()), RANDOM()", false, false,
			`^SELECT \(SELECT x FROM t ORDER BY RANDOM\(\)\), \d+$`},
		{"random after limit", "SELECT * FROM t ORDER BY x LIMIT RANDOM()", false, false, `^SELECT \* FROM t ORDER BY x LIMIT \d+$`},
		{"randomblob", "INSERT INTO t VALUES(randomblob(4))", false, false, `^INSERT INTO t VALUES\(x'[0-9A-F]{8}'\)$`},
		{"randomblob expr untouched", "SELECT randomblob(n)", false, false, `^SELECT randomblob\(n\)$`},
		{"date now", "SELECT date('now')", false, false, `^SELECT date\(` + jd + `\)$`},
		{"datetime now modifiers", "SELECT datetime('NOW', 'start of day')", false, false, `^SELECT datetime\(` + jd + `, 'start of day'\)$`},
		{"strftime second", "SELECT strftime('%s', 'now')", false, false, `^SELECT strftime\('%s', ` + jd + `\)$`},
		{"timediff both", "SELECT timediff('now', 'now')", false, false, `^SELECT timediff\(` + jd + `, ` + jd + `\)$`},
		{"notime", "SELECT date('now')", false, true, `^SELECT date\('now'\)$`},
		{"now as data", "INSERT INTO t VALUES('now')", false, false, `^INSERT INTO t VALUES\('now'\)$`},
		{"now as modifier", "SELECT date('2020-01-01', 'now')", false, false, `^SELECT date\('2020-01-01', 'now'\)$`},
		{"now in string", "SELECT 'date(''now'') RANDOM()'", false, false, `^SELECT 'date\(''now''\) RANDOM\(\)'$`},
		{"in comment", "SELECT 1 -- RANDOM()\n/* date('now') */", false, false, `^SELECT 1 -- RANDOM\(\)\n/\* date\('now'\) \*/$`},
		{"quoted identifier", `SELECT "RANDOM()" FROM t`, false, false, `^SELECT "RANDOM\(\)" FROM t$`},
		{"current_timestamp untouched", "SELECT CURRENT_TIMESTAMP", false, false, `^SELECT CURRENT_TIMESTAMP$`},
		{"nothing", "SELECT * FROM foo WHERE id = 1", false, false, `^SELECT \* FROM foo WHERE id = 1$`},
		{"unterminated", "SELECT random(", false, false, `^SELECT random\($`},
		{"nested", "SELECT abs(random()), date('now')", false, false, `^SELECT abs\(\d+\), date\(` + jd + `\)$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Rewrite(tt.sql, tt.noRandom, tt.noTime)
			if err != nil {
				t.Fatalf("Rewrite: %v", err)
			}
			if !regexp.MustCompile(tt.want).MatchString(got) {
				t.Errorf("got %q, want match of %s", got, tt.want)
			}
		})
	}
}

func TestCheckRequest(t *testing.T) {
	tests := []struct {
		name   string
		sql    string
		params []Parameter
		want   error
	}{
		{"plain", "SELECT 1", nil, nil},
		{"journal_mode", "PRAGMA journal_mode=DELETE", nil, ErrDisallowedPragma},
		{"journal_mode spaced", "  pragma  Journal_Mode = wal", nil, ErrDisallowedPragma},
		{"journal_mode schema", "PRAGMA main.journal_mode=DELETE", nil, ErrDisallowedPragma},
		{"journal_mode call form", "PRAGMA journal_mode(DELETE)", nil, ErrDisallowedPragma},
		{"journal_mode read", "PRAGMA journal_mode", nil, nil},
		{"wal_autocheckpoint", "PRAGMA wal_autocheckpoint=10", nil, ErrDisallowedPragma},
		{"wal_autocheckpoint read", "PRAGMA wal_autocheckpoint", nil, nil},
		{"wal_checkpoint", "PRAGMA wal_checkpoint(TRUNCATE)", nil, ErrDisallowedPragma},
		{"wal_checkpoint bare", "pragma s.wal_checkpoint", nil, ErrDisallowedPragma},
		{"synchronous", "PRAGMA synchronous = 2", nil, ErrDisallowedPragma},
		{"synchronous schema", "PRAGMA main.synchronous=OFF", nil, ErrDisallowedPragma},
		{"query_only", "PRAGMA query_only=1", nil, ErrDisallowedPragma},
		{"foreign_keys allowed", "PRAGMA foreign_keys=1", nil, nil},
		{"behind a comment", "/* x */ PRAGMA journal_mode=DELETE", nil, ErrDisallowedPragma},
		{"second statement", "SELECT 1; PRAGMA synchronous=2", nil, ErrDisallowedPragma},
		{"in a string", "SELECT 'PRAGMA journal_mode=DELETE'", nil, nil},
		{"good params", "SELECT ?", []Parameter{{Value: nil}, {Value: int64(1)}, {Value: 1.5}, {Value: "s"}, {Value: []byte{1}}, {Value: true}}, nil},
		{"int param", "SELECT ?", []Parameter{{Value: 1}}, ErrUnsupportedType},
		{"map param", "SELECT :a", []Parameter{{Name: "a", Value: map[string]any{}}}, ErrUnsupportedType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRequest(&Request{Statements: []Statement{{SQL: "SELECT 1"}, {SQL: tt.sql, Parameters: tt.params}}})
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzRewrite checks the tokenizer-based helpers never panic and never
// change input they have no reason to touch.
func FuzzRewrite(f *testing.F) {
	for _, s := range []string{"SELECT random()", "date('now'", "x'", "[a", "'", `"`, "/*", "--", "randomblob(", "strftime('%s','now')",
		"CREATE TRIGGER t BEGIN SELECT 1; END; SELECT 2", "ORDER BY random()) random()", ")))((("} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Rewrite(s, false, false)
		if err != nil {
			t.Fatalf("Rewrite(%q): %v", s, err)
		}
		if same, _ := Rewrite(s, true, true); same != s {
			t.Fatalf("Rewrite(%q, true, true) = %q", s, same)
		}
		_ = got
		_ = splitStatements(s)
		_ = CheckRequest(&Request{Statements: []Statement{{SQL: s}}})
		if n := len(tokenize(s)); n > len(s) {
			t.Fatalf("%d tokens for %d bytes", n, len(s))
		}
	})
}

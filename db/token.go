package db

import "strings"

// tokKind is the lexical class of a token. The tokenizer knows just enough
// SQLite syntax to never mistake the inside of a string, quoted identifier
// or comment for code; it is shared by the statement splitter, the PRAGMA
// check and Rewrite.
type tokKind uint8

const (
	tkSpace   tokKind = iota // whitespace
	tkComment                // -- … or /* … */
	tkString                 // '…'
	tkQuoted                 // "…", `…` or […]
	tkBlob                   // x'…'
	tkNumber                 // 12, 1.5e3, 0x1F
	tkIdent                  // identifiers and keywords
	tkParam                  // ?, ?1, :a, @a, $a
	tkSemi                   // ;
	tkPunct                  // any other single character
)

// token is one lexical token: its kind and its text, a slice of the input
// starting at byte offset pos.
type token struct {
	kind tokKind
	text string
	pos  int
}

// trivia reports whether t carries no meaning (whitespace or comment).
func (t token) trivia() bool { return t.kind == tkSpace || t.kind == tkComment }

// is reports whether t is the identifier or keyword kw, case-insensitively.
func (t token) is(kw string) bool { return t.kind == tkIdent && strings.EqualFold(t.text, kw) }

// tokenize splits sql into tokens covering every byte of it, in order. An
// unterminated string, identifier or comment runs to the end of the input.
func tokenize(sql string) []token {
	var toks []token
	for i := 0; i < len(sql); {
		kind, n := scanToken(sql[i:])
		toks = append(toks, token{kind: kind, text: sql[i : i+n], pos: i})
		i += n
	}
	return toks
}

// scanToken returns the kind and byte length of the token at the start of
// s, which is not empty. The length is always at least 1.
func scanToken(s string) (tokKind, int) {
	c := s[0]
	switch {
	case isSpace(c):
		return tkSpace, spanWhile(s, isSpace)
	case c == '-' && strings.HasPrefix(s, "--"):
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			return tkComment, i + 1
		}
		return tkComment, len(s)
	case c == '/' && strings.HasPrefix(s, "/*"):
		if i := strings.Index(s[2:], "*/"); i >= 0 {
			return tkComment, i + 4
		}
		return tkComment, len(s)
	case c == '\'':
		return tkString, scanQuoted(s, '\'')
	case c == '"' || c == '`':
		return tkQuoted, scanQuoted(s, c)
	case c == '[':
		if i := strings.IndexByte(s, ']'); i >= 0 {
			return tkQuoted, i + 1
		}
		return tkQuoted, len(s)
	case (c == 'x' || c == 'X') && len(s) > 1 && s[1] == '\'':
		return tkBlob, 1 + scanQuoted(s[1:], '\'')
	case isDigit(c) || (c == '.' && len(s) > 1 && isDigit(s[1])):
		return tkNumber, scanNumber(s)
	case isIdentStart(c):
		return tkIdent, spanWhile(s, isIdentChar)
	case c == '?':
		return tkParam, 1 + spanWhile(s[1:], isDigit)
	case c == ':' || c == '@' || c == '$':
		if n := spanWhile(s[1:], isIdentChar); n > 0 {
			return tkParam, 1 + n
		}
	case c == ';':
		return tkSemi, 1
	}
	return tkPunct, 1
}

// scanQuoted returns the length of the quoted token at the start of s,
// where a doubled quote q stands for itself.
func scanQuoted(s string, q byte) int {
	for i := 1; i < len(s); i++ {
		if s[i] != q {
			continue
		}
		if i+1 < len(s) && s[i+1] == q {
			i++
			continue
		}
		return i + 1
	}
	return len(s)
}

// scanNumber returns the length of the numeric literal at the start of s.
func scanNumber(s string) int {
	if len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') {
		return 2 + spanWhile(s[2:], isHexDigit)
	}
	i := spanWhile(s, isDigitOrSep)
	if i < len(s) && s[i] == '.' {
		i++
		i += spanWhile(s[i:], isDigitOrSep)
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if n := spanWhile(s[j:], isDigit); n > 0 {
			i = j + n
		}
	}
	return i
}

func spanWhile(s string, ok func(byte) bool) int {
	i := 0
	for i < len(s) && ok(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDigit(c byte) bool      { return '0' <= c && c <= '9' }
func isDigitOrSep(c byte) bool { return isDigit(c) || c == '_' }
func isHexDigit(c byte) bool   { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }
func isIdentStart(c byte) bool {
	return c == '_' || c >= 0x80 || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}
func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

// leadingKeyword returns the first identifier of s, upper-cased, skipping
// whitespace and comments; "" if the first meaningful token is not an
// identifier.
func leadingKeyword(s string) string {
	return strings.ToUpper(leadingWord(s))
}

// leadingWord is s's first identifier or keyword as written, skipping
// whitespace and comments; "" if s starts with anything else.
func leadingWord(s string) string {
	for i := 0; i < len(s); {
		kind, n := scanToken(s[i:])
		switch kind {
		case tkSpace, tkComment:
			i += n
			continue
		case tkIdent:
			return s[i : i+n]
		}
		return ""
	}
	return ""
}

// isEmptySQL reports whether s holds only whitespace, comments and
// semicolons. It stops at the first meaningful token.
func isEmptySQL(s string) bool {
	for i := 0; i < len(s); {
		kind, n := scanToken(s[i:])
		if kind != tkSpace && kind != tkComment && kind != tkSemi {
			return false
		}
		i += n
	}
	return true
}

// dmlKeywords start the statements after which SQLite's changes() holds
// their own count (INSERT, REPLACE, UPDATE, DELETE).
var dmlKeywords = map[string]bool{"INSERT": true, "REPLACE": true, "UPDATE": true, "DELETE": true}

// setsChanges reports whether any statement of text is an INSERT, UPDATE
// or DELETE (possibly after a WITH clause), i.e. sets changes().
func setsChanges(text string) bool {
	kw := leadingKeyword(text)
	if dmlKeywords[kw] && !strings.Contains(text, ";") {
		return true
	}
	for _, p := range splitStatements(text) {
		if dmlKeywords[mainVerb(p)] {
			return true
		}
	}
	return false
}

// mainVerb is the keyword that says what statement s is: its first word,
// or after WITH the first INSERT, REPLACE, UPDATE, DELETE, SELECT or
// VALUES outside the parentheses of the common table expressions.
func mainVerb(s string) string {
	kw := leadingKeyword(s)
	if kw != "WITH" {
		return kw
	}
	depth := 0
	for _, t := range tokenize(s) {
		switch {
		case t.kind == tkPunct && t.text == "(":
			depth++
		case t.kind == tkPunct && t.text == ")":
			depth--
		case depth == 0 && t.kind == tkIdent:
			if up := strings.ToUpper(t.text); dmlKeywords[up] || up == "SELECT" || up == "VALUES" {
				return up
			}
		}
	}
	return kw
}

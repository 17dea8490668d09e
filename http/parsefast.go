package httpd

import (
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/rdb/rdb/db"
)

// parseStatementsFast parses the common request bodies straight into
// statements, without building the []any tree parseStatementsSlow walks:
// an array whose elements are SQL strings or [sql, scalar…] arrays, the
// scalars being numbers, strings, true, false and null. ok is false for
// anything else (named parameters, byte arrays, `[]`, and every body that
// parseStatementsSlow refuses, malformed or not), and then the caller
// runs parseStatementsSlow: the fast path never makes an error of its
// own, and what it accepts it maps exactly as the slow path does
// (parsefast_test.go checks both on a table and under fuzzing).
//
// Bulk writes hold thousands of statements, so allocations are few: the
// statements, and all their parameters, each share one array sized after
// the first statement, and SQL text repeated from the statement before is
// not copied again. Strings never share memory with b, which the caller
// may reuse.
func parseStatementsFast(b []byte) (stmts []db.Statement, ok bool) {
	p := fastParser{jsonDecoder: jsonDecoder{b: b}}
	p.skipSpace()
	if p.peek() != '[' {
		return nil, false
	}
	p.i++
	p.skipSpace()
	if p.peek() == ']' {
		return nil, false // ErrNoStatements
	}
	for {
		st, ok := p.statement()
		if !ok {
			return nil, false
		}
		p.skipSpace()
		if stmts == nil {
			stmts = p.allocate(st)
		}
		if st.SQL != "" {
			stmts = append(stmts, st)
		}
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			p.skipSpace()
			if p.i != len(b) {
				return nil, false // trailing data
			}
			return stmts, true
		default:
			return nil, false
		}
	}
}

// fastParser is a jsonDecoder whose values are the parts of statements.
type fastParser struct {
	jsonDecoder
	params  []db.Parameter // the backing array of every statement's Parameters
	lastSQL string         // the SQL of the statement before
}

// allocate sizes the statements and parameters arrays once the first
// statement is parsed, assuming the others look like it, as in bulk
// requests, so that they grow rarely. Each guess stays below one item
// per 32 bytes of body (a Statement is 40 bytes, a Parameter 32): a first
// statement unlike the others costs about twice the body's size at most.
func (p *fastParser) allocate(first db.Statement) []db.Statement {
	if p.peek() == ']' {
		return make([]db.Statement, 0, 1) // the only statement
	}
	n := len(p.b) / max(p.i, 32)
	params := n * len(first.Parameters)
	if params > len(p.b)/32 {
		params = len(p.b) / 32
	}
	grown := make([]db.Parameter, len(p.params), len(p.params)+params)
	copy(grown, p.params)
	p.params = grown
	return make([]db.Statement, 0, n+1)
}

// peek returns the byte at p.i, or 0 at the end of the input (0 is never
// valid JSON outside a string, so every caller bails on it).
func (p *fastParser) peek() byte {
	if p.i < len(p.b) {
		return p.b[p.i]
	}
	return 0
}

// statement parses one element, "sql" or ["sql", scalar…], from p.i.
func (p *fastParser) statement() (db.Statement, bool) {
	p.skipSpace()
	switch p.peek() {
	case '"':
		sql, ok := p.sql()
		return db.Statement{SQL: sql}, ok
	case '[':
		p.i++
	default:
		return db.Statement{}, false
	}
	p.skipSpace()
	if p.peek() != '"' {
		return db.Statement{}, false // [] or non-string SQL: an error
	}
	sql, ok := p.sql()
	if !ok {
		return db.Statement{}, false
	}
	start := len(p.params)
	for {
		p.skipSpace()
		switch p.peek() {
		case ']':
			p.i++
			return db.Statement{SQL: sql, Parameters: p.paramsFrom(start)}, true
		case ',':
			p.i++
		default:
			return db.Statement{}, false
		}
		p.skipSpace()
		v, ok := p.scalar()
		if !ok {
			return db.Statement{}, false
		}
		p.params = append(p.params, db.Parameter{Value: v})
	}
}

// paramsFrom returns the parameters appended since start, nil if none
// (as parseParameters gives for ["sql"]). The slice's capacity ends at
// its length, so appending to it never overwrites the next statement's.
func (p *fastParser) paramsFrom(start int) []db.Parameter {
	end := len(p.params)
	if end == start {
		return nil
	}
	return p.params[start:end:end]
}

// scalar parses a positional parameter at p.i into what parameterValue
// gives for it; false for objects, arrays and numbers out of range.
func (p *fastParser) scalar() (any, bool) {
	switch c := p.peek(); {
	case c == '"':
		s, ok := p.paramString()
		if !ok {
			return nil, false
		}
		if b, ok := hexLiteral(s); ok {
			return b, true
		}
		return s, true
	case c == '-' || ('0' <= c && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true") == nil
	case c == 'f':
		return false, p.literal("false") == nil
	case c == 'n':
		return nil, p.literal("null") == nil
	}
	return nil, false
}

// number maps the number at p.i as numberValue maps its json.Number: an
// int64 if strconv.ParseInt takes it, else a finite float64.
func (p *fastParser) number() (any, bool) {
	start := p.i
	if !p.scanNumber() {
		return nil, false
	}
	n := p.b[start:p.i]
	if v, ok := shortInt(n); ok {
		return v, true
	}
	if v, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return v, true
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, false // numberValue's "out of range" error
	}
	return f, true
}

// shortInt parses -?[0-9]{1,18}, which always fits in an int64, without
// strconv; false for anything else, which may still be an int64.
func shortInt(n []byte) (int64, bool) {
	neg := n[0] == '-'
	if neg {
		n = n[1:]
	}
	if len(n) == 0 || len(n) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range n {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

// sql returns the string at p.i as its own allocation, or the previous
// statement's SQL when it is the same text, as in a bulk insert.
func (p *fastParser) sql() (string, bool) {
	lo, hi, plain := p.span()
	if !plain {
		return p.escaped()
	}
	p.i = hi + 1
	if string(p.b[lo:hi]) != p.lastSQL {
		p.lastSQL = string(p.b[lo:hi])
	}
	return p.lastSQL, true
}

// paramString returns the string at p.i.
func (p *fastParser) paramString() (string, bool) {
	lo, hi, plain := p.span()
	if !plain {
		return p.escaped()
	}
	p.i = hi + 1
	return string(p.b[lo:hi]), true
}

// escaped decodes the string at p.i with jsonDecoder.str, as the slow
// path does: escapes, invalid UTF-8 and errors.
func (p *fastParser) escaped() (string, bool) {
	s, err := p.str()
	return s, err == nil
}

// span finds the contents b[lo:hi] of the string whose opening quote is
// at p.i. plain means they are its value as they stand: no escapes, no
// control characters, valid UTF-8, and a closing quote at b[hi].
func (p *fastParser) span() (lo, hi int, plain bool) {
	lo = p.i + 1
	ascii := true
	for i := lo; i < len(p.b); i++ {
		for i < len(p.b) && plainASCII[p.b[i]] {
			i++
		}
		if i == len(p.b) {
			break
		}
		switch c := p.b[i]; {
		case c == '"':
			return lo, i, ascii || utf8.Valid(p.b[lo:i])
		case c == '\\' || c < 0x20:
			return lo, i, false
		}
		ascii = false // c >= utf8.RuneSelf
	}
	return lo, len(p.b), false
}

// plainASCII holds the bytes that stand for themselves inside a JSON
// string: printable ASCII but the quote and the backslash.
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

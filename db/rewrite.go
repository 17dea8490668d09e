package db

import (
	crand "crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// maxRewriteBlob bounds RANDOMBLOB(N) literals Rewrite will spell out.
const maxRewriteBlob = 1 << 16

// rewriter holds what one Rewrite call replaces: spans of the input and
// their replacements, in order.
type rewriter struct {
	toks       []token
	noRandom   bool
	noTime     bool
	julianDay  string
	edits      []edit
	orderDepth []int // paren depths at which an ORDER BY is open
}

type edit struct {
	from, to int // byte offsets of the replaced span
	text     string
}

// Rewrite shows how a statement's RANDOM(), RANDOMBLOB(N) and 'now'
// calls become literals (for /db/sql), the way rqlite rewrites before
// logging (API.md §3.2): RANDOM() becomes an integer, RANDOMBLOB(<integer
// literal>) a blob literal (neither inside ORDER BY), and a 'now' time
// value of date, time, datetime, julianday, unixepoch (first argument),
// strftime (second) or timediff (either) a Julian-day number, one value
// per statement. Nothing else is touched; the input comes back unchanged
// when nothing matched.
//
// rdb itself does not log rewritten SQL: its apply path is deterministic
// instead (see doc.go).
func Rewrite(sql string, noRandom, noTime bool) (string, error) {
	if noRandom && noTime {
		return sql, nil
	}
	rw := &rewriter{toks: tokenize(sql), noRandom: noRandom, noTime: noTime, julianDay: julianDay(time.Now())}
	if err := rw.scan(); err != nil {
		return "", err
	}
	if len(rw.edits) == 0 {
		return sql, nil
	}
	slices.SortFunc(rw.edits, func(a, b edit) int { return a.from - b.from })
	var b strings.Builder
	last := 0
	for _, e := range rw.edits {
		b.WriteString(sql[last:e.from])
		b.WriteString(e.text)
		last = e.to
	}
	b.WriteString(sql[last:])
	return b.String(), nil
}

// julianDay renders t as a Julian day number, millisecond precision.
func julianDay(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/86400000.0+2440587.5, 'f', -1, 64)
}

// scan walks the tokens, tracking parentheses and ORDER BY clauses.
func (rw *rewriter) scan() error {
	depth := 0
	for i := 0; i < len(rw.toks); i++ {
		t := rw.toks[i]
		switch {
		case t.kind == tkSemi:
			depth, rw.orderDepth = 0, rw.orderDepth[:0]
		case t.kind == tkPunct && t.text == "(":
			depth++
		case t.kind == tkPunct && t.text == ")":
			depth--
			rw.closeOrderBy(depth)
		case t.is("ORDER") && rw.next(i).is("BY"):
			rw.orderDepth = append(rw.orderDepth, depth)
		case t.is("LIMIT"):
			rw.closeOrderBy(depth - 1)
		case t.kind == tkIdent && rw.next(i).text == "(" && !rw.prev(i).isDot():
			skip, err := rw.call(i)
			if err != nil {
				return err
			}
			i = skip
		}
	}
	return nil
}

// closeOrderBy ends the ORDER BY clauses opened deeper than depth.
func (rw *rewriter) closeOrderBy(depth int) {
	for len(rw.orderDepth) > 0 && rw.orderDepth[len(rw.orderDepth)-1] > depth {
		rw.orderDepth = rw.orderDepth[:len(rw.orderDepth)-1]
	}
}

func (t token) isDot() bool { return t.kind == tkPunct && t.text == "." }

// next and prev return the nearest meaningful token after or before i.
func (rw *rewriter) next(i int) token {
	for j := i + 1; j < len(rw.toks); j++ {
		if !rw.toks[j].trivia() {
			return rw.toks[j]
		}
	}
	return token{}
}

func (rw *rewriter) prev(i int) token {
	for j := i - 1; j >= 0; j-- {
		if !rw.toks[j].trivia() {
			return rw.toks[j]
		}
	}
	return token{}
}

// call handles the function call whose name is toks[i]; it returns the
// index to continue from (i itself unless the whole call was replaced).
func (rw *rewriter) call(i int) (int, error) {
	args, closeIdx := rw.args(i)
	if closeIdx < 0 {
		return i, nil
	}
	name := strings.ToLower(rw.toks[i].text)
	inOrderBy := len(rw.orderDepth) > 0
	switch {
	case name == "random" && len(args) == 0 && !rw.noRandom && !inOrderBy:
		var b [8]byte
		if _, err := crand.Read(b[:]); err != nil {
			return i, fmt.Errorf("rewrite random(): %w", err)
		}
		v := int64(binary.LittleEndian.Uint64(b[:]) >> 1)
		rw.replace(i, closeIdx, strconv.FormatInt(v, 10))
		return closeIdx, nil
	case name == "randomblob" && len(args) == 1 && !rw.noRandom && !inOrderBy:
		return rw.randomblob(i, args[0], closeIdx)
	case !rw.noTime:
		for _, a := range nowArgPositions(name, len(args)) {
			if t, ok := rw.single(args[a]); ok && rw.toks[t].kind == tkString && isNowLiteral(rw.toks[t].text) {
				rw.replace(t, t, rw.julianDay)
			}
		}
	}
	return i, nil
}

// randomblob replaces RANDOMBLOB(<integer literal>) with x'…'.
func (rw *rewriter) randomblob(i int, arg [2]int, closeIdx int) (int, error) {
	t, ok := rw.single(arg)
	if !ok || rw.toks[t].kind != tkNumber {
		return i, nil
	}
	n, err := strconv.ParseInt(rw.toks[t].text, 10, 64)
	if err != nil || n > maxRewriteBlob {
		return i, nil
	}
	n = max(n, 1)
	b := make([]byte, n)
	if _, err := crand.Read(b); err != nil {
		return i, fmt.Errorf("rewrite randomblob(): %w", err)
	}
	rw.replace(i, closeIdx, "x'"+strings.ToUpper(hex.EncodeToString(b))+"'")
	return closeIdx, nil
}

// nowArgPositions lists which arguments of a call are time values.
func nowArgPositions(fn string, nArgs int) []int {
	switch fn {
	case "date", "time", "datetime", "julianday", "unixepoch":
		if nArgs >= 1 {
			return []int{0}
		}
	case "strftime":
		if nArgs >= 2 {
			return []int{1}
		}
	case "timediff":
		if nArgs == 2 {
			return []int{0, 1}
		}
	}
	return nil
}

// isNowLiteral reports the string literal 'now' (any case).
func isNowLiteral(lit string) bool {
	return len(lit) == 5 && strings.EqualFold(lit, "'now'")
}

// args returns the token ranges [from, to) of each argument of the call
// named by toks[i], and the index of its closing parenthesis (-1 if the
// input ends first). An empty argument list yields no ranges.
func (rw *rewriter) args(i int) ([][2]int, int) {
	open := i + 1
	for rw.toks[open].trivia() {
		open++
	}
	var args [][2]int
	depth, start := 0, open+1
	for j := open + 1; j < len(rw.toks); j++ {
		t := rw.toks[j]
		switch {
		case t.kind == tkPunct && t.text == "(":
			depth++
		case t.kind == tkPunct && t.text == ")" && depth > 0:
			depth--
		case t.kind == tkPunct && t.text == ")":
			if firstCode(rw.toks[start:j]) >= 0 || len(args) > 0 {
				args = append(args, [2]int{start, j})
			}
			return args, j
		case t.kind == tkPunct && t.text == "," && depth == 0:
			args = append(args, [2]int{start, j})
			start = j + 1
		case t.kind == tkSemi:
			return nil, -1
		}
	}
	return nil, -1
}

// single returns the one meaningful token of an argument range.
func (rw *rewriter) single(r [2]int) (int, bool) {
	idx := -1
	for j := r[0]; j < r[1]; j++ {
		if rw.toks[j].trivia() {
			continue
		}
		if idx >= 0 {
			return 0, false
		}
		idx = j
	}
	return idx, idx >= 0
}

// replace records that tokens from..to (inclusive) become text.
func (rw *rewriter) replace(from, to int, text string) {
	end := rw.toks[to].pos + len(rw.toks[to].text)
	rw.edits = append(rw.edits, edit{from: rw.toks[from].pos, to: end, text: text})
}

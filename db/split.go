package db

import "strings"

// Token classes of SQLite's sqlite3_complete() state machine.
const (
	ckSemi = iota
	ckWS
	ckOther
	ckExplain
	ckCreate
	ckTemp
	ckTrigger
	ckEnd
)

// completeTrans is the transition table of sqlite3_complete() (complete.c):
// completeTrans[state][token class] is the next state. State 1 (START)
// after a semicolon means a statement just ended; states 5 to 7 are inside
// a CREATE TRIGGER body, whose semicolons do not end the statement.
var completeTrans = [8][8]uint8{
	/* 0 INVALID */ {1, 0, 2, 3, 4, 2, 2, 2},
	/* 1 START   */ {1, 1, 2, 3, 4, 2, 2, 2},
	/* 2 NORMAL  */ {1, 2, 2, 2, 2, 2, 2, 2},
	/* 3 EXPLAIN */ {1, 3, 3, 2, 4, 2, 2, 2},
	/* 4 CREATE  */ {1, 4, 2, 2, 2, 4, 5, 2},
	/* 5 TRIGGER */ {6, 5, 5, 5, 5, 5, 5, 5},
	/* 6 SEMI    */ {6, 6, 5, 5, 5, 5, 5, 7},
	/* 7 END     */ {1, 7, 5, 5, 5, 5, 5, 5},
}

// completeClass maps a token to its sqlite3_complete() class.
func completeClass(t token) int {
	switch {
	case t.kind == tkSemi:
		return ckSemi
	case t.trivia():
		return ckWS
	case t.kind != tkIdent:
		return ckOther
	}
	switch strings.ToLower(t.text) {
	case "explain":
		return ckExplain
	case "create":
		return ckCreate
	case "temp", "temporary":
		return ckTemp
	case "trigger":
		return ckTrigger
	case "end":
		return ckEnd
	}
	return ckOther
}

// splitStatements splits sql into its SQL statements the way SQLite's
// parser would consume them (a CREATE TRIGGER body stays whole). Pieces
// holding only whitespace, comments and semicolons are dropped; each piece
// keeps its terminating semicolon.
func splitStatements(sql string) []string {
	toks := tokenize(sql)
	var out []string
	state, start := uint8(0), 0
	for i, t := range toks {
		state = completeTrans[state][completeClass(t)]
		if t.kind != tkSemi || state != 1 {
			continue
		}
		if first := firstCode(toks[start:i]); first >= 0 {
			out = append(out, sql[toks[start+first].pos:t.pos+1])
		}
		start = i + 1
	}
	if first := firstCode(toks[start:]); first >= 0 {
		out = append(out, sql[toks[start+first].pos:])
	}
	return out
}

// firstCode returns the index of the first token of toks that is not
// whitespace, a comment or a semicolon; -1 if there is none.
func firstCode(toks []token) int {
	for i, t := range toks {
		if !t.trivia() && t.kind != tkSemi {
			return i
		}
	}
	return -1
}

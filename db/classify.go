package db

import (
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// authState records what SQLite's authorizer saw while one statement was
// prepared on one connection. A connection is used by one goroutine at a
// time and the authorizer runs synchronously inside prepare, so the state
// needs no lock.
type authState struct {
	write bool
	// classes remembers what classify found per SQL text on this
	// connection: preparing a statement just to classify it costs as much
	// as running a point query. A statement's class does not depend on
	// the schema once it prepares (a failure is never remembered).
	classes map[string]stmtClass
}

// maxClasses bounds authState.classes; a fuller map starts over.
const maxClasses = 1024

func (s *authState) remember(text string, cl stmtClass) {
	if cl.err != nil {
		return
	}
	if s.classes == nil || len(s.classes) >= maxClasses {
		s.classes = make(map[string]stmtClass)
	}
	s.classes[text] = cl
}

// authorize is the connection's authorizer: it never denies, it only
// notes whether the statement being prepared asked for a write action.
func (s *authState) authorize(action sqlite.AuthorizerActionCode, arg1, arg2, _, _ string) sqlite.AuthorizerReturnCode {
	if writeAction(action, arg1, arg2) {
		s.write = true
	}
	return sqlite.AuthorizerOK
}

// writeAction reports whether an authorizer action changes the database,
// approximating sqlite3_stmt_readonly (which modernc does not expose).
func writeAction(action sqlite.AuthorizerActionCode, arg1, arg2 string) bool {
	switch action {
	case sqlite.AuthInsert, sqlite.AuthUpdate, sqlite.AuthDelete,
		sqlite.AuthCreateIndex, sqlite.AuthCreateTable, sqlite.AuthCreateTempIndex,
		sqlite.AuthCreateTempTable, sqlite.AuthCreateTempTrigger, sqlite.AuthCreateTempView,
		sqlite.AuthCreateTrigger, sqlite.AuthCreateView, sqlite.AuthCreateVTable,
		sqlite.AuthDropIndex, sqlite.AuthDropTable, sqlite.AuthDropTempIndex,
		sqlite.AuthDropTempTable, sqlite.AuthDropTempTrigger, sqlite.AuthDropTempView,
		sqlite.AuthDropTrigger, sqlite.AuthDropView, sqlite.AuthDropVTable,
		sqlite.AuthAlterTable, sqlite.AuthReindex, sqlite.AuthAnalyze,
		sqlite.AuthAttach, sqlite.AuthDetach:
		return true
	case sqlite.AuthPragma:
		return pragmaWrites(arg1, arg2)
	}
	return false
}

// readPragmasWithArg take an argument but only read (PRAGMA table_info(t)).
var readPragmasWithArg = map[string]bool{
	"table_info": true, "table_xinfo": true, "table_list": true,
	"index_info": true, "index_xinfo": true, "index_list": true,
	"foreign_key_list": true, "foreign_key_check": true,
	"integrity_check": true, "quick_check": true,
}

// writePragmas change the database even without a value.
var writePragmas = map[string]bool{
	"incremental_vacuum": true, "optimize": true, "wal_checkpoint": true,
}

// pragmaWrites classifies PRAGMA name [= value]: setting a value is a
// write, except for the pragmas whose argument names what to read.
func pragmaWrites(name, value string) bool {
	name = strings.ToLower(name)
	if writePragmas[name] {
		return true
	}
	return value != "" && !readPragmasWithArg[name]
}

// writeKeywords start statements that write even when the authorizer sees
// nothing: VACUUM has no action code, and REINDEX or ANALYZE of a schema
// without indexes or tables presents none.
var writeKeywords = map[string]bool{"VACUUM": true, "REINDEX": true, "ANALYZE": true}

// stmtClass is what preparing a statement (without running it) tells.
type stmtClass struct {
	write   bool  // it may change the database, or could not be prepared
	columns int   // result columns of its first SQL statement
	multi   bool  // it holds more than one SQL statement
	err     error // the prepare failure, if any
}

// columnInfoer is the part of modernc's connection used to prepare a
// statement without running it.
type columnInfoer interface {
	ColumnInfo(query string) ([]sqlite.ColumnInfo, error)
}

// connStates maps each physical connection (modernc's driver connection)
// to its authorizer state. Entries are added by the connection hook and
// dropped all at once when the pools are closed.
type connStates struct{ m sync.Map }

func (c *connStates) add(driverConn any) *authState {
	st := &authState{}
	c.m.Store(driverConn, st)
	return st
}

func (c *connStates) get(driverConn any) (*authState, bool) {
	v, ok := c.m.Load(driverConn)
	if !ok {
		return nil, false
	}
	return v.(*authState), true
}

func (c *connStates) clear() { c.m.Clear() }

// classify prepares each SQL statement of text on conn and reports whether
// any would write. A statement that fails to prepare counts as a write.
func (c *connStates) classify(conn *sql.Conn, text string) (stmtClass, error) {
	var cl stmtClass
	err := conn.Raw(func(driverConn any) error {
		st, ok := c.get(driverConn)
		ci, ok2 := driverConn.(columnInfoer)
		if !ok || !ok2 {
			return fmt.Errorf("classify: connection %T has no authorizer", driverConn)
		}
		if known, ok := st.classes[text]; ok {
			cl = known
			return nil
		}
		defer func() { st.remember(text, cl) }()
		pieces := splitStatements(text)
		cl.multi = len(pieces) > 1
		if len(pieces) == 1 {
			pieces[0] = text
		}
		for i, p := range pieces {
			st.write = false
			info, err := ci.ColumnInfo(p)
			if err != nil {
				cl.write, cl.err = true, err
				return nil
			}
			if i == 0 {
				cl.columns = len(info)
			}
			kw := leadingKeyword(p)
			if kw == "EXPLAIN" {
				continue // runs nothing, whatever it explains
			}
			if st.write || writeKeywords[kw] {
				cl.write = true
				return nil
			}
		}
		return nil
	})
	return cl, err
}

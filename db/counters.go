package db

import (
	"database/sql"
	"fmt"
	"reflect"
	"unsafe"

	sqlite3 "modernc.org/sqlite/lib"
)

// stickyCounters are the connection's last_insert_rowid() and changes().
// rqlite clients see them "sticky": a statement that does not set them
// (DDL, a SELECT run as a write) reports the previous statement's. The
// store's bookkeeping write (the applied index) must not show through, so
// writeApplied saves them before it and puts them back after.
//
// SQLite has a setter for last_insert_rowid but none for changes(), so
// both are written straight into the connection's sqlite3 struct
// (modernc exports its type). This is safe: the write connection is used
// by one goroutine at a time (DB.wmu) and no statement is running.
type stickyCounters struct{ lastRowid, changes int64 }

// withHandle runs fn on the sqlite3 struct of conn's driver connection.
func withHandle(conn *sql.Conn, fn func(h *sqlite3.Tsqlite3)) error {
	return conn.Raw(func(dc any) error {
		v := reflect.ValueOf(dc)
		if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
			return fmt.Errorf("driver connection %T: not a modernc connection", dc)
		}
		f := v.Elem().FieldByName("db")
		if !f.IsValid() || f.Kind() != reflect.Uintptr || f.Uint() == 0 {
			return fmt.Errorf("driver connection %T: no sqlite3 handle", dc)
		}
		addr := uintptr(f.Uint())
		// Reinterpret the handle (a C pointer in modernc's memory, never
		// moved by the Go GC) without a uintptr-to-Pointer conversion.
		fn((*sqlite3.Tsqlite3)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))))
		return nil
	})
}

// saveCounters reads the connection's sticky counters.
func saveCounters(conn *sql.Conn) (stickyCounters, error) {
	var c stickyCounters
	err := withHandle(conn, func(h *sqlite3.Tsqlite3) { c = stickyCounters{h.FlastRowid, h.FnChange} })
	return c, err
}

// restoreCounters puts saved counters back.
func restoreCounters(conn *sql.Conn, c stickyCounters) error {
	return withHandle(conn, func(h *sqlite3.Tsqlite3) { h.FlastRowid, h.FnChange = c.lastRowid, c.changes })
}

package db

import (
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// zeroTimeText is how a date column value that cannot be parsed renders
// (mattn/go-sqlite3 yields the zero time.Time).
var zeroTimeText = time.Time{}.Format(time.RFC3339Nano)

// isTimeType reports a declared type that mattn/go-sqlite3 converts to
// time.Time (exact, lower-cased).
func isTimeType(decl string) bool {
	return decl == "date" || decl == "datetime" || decl == "timestamp"
}

// isTextType reports a declared type whose BLOB values render as text
// (rqlite's isTextType; "" covers expressions).
func isTextType(decl string) bool {
	if decl == "text" || decl == "json" || decl == "" {
		return true
	}
	for _, p := range []string{"varchar", "varying character", "nchar", "native character", "nvarchar", "clob"} {
		if strings.HasPrefix(decl, p) {
			return true
		}
	}
	return false
}

// convertValue turns one value as modernc returns it into the value the
// API shows for a column of declared type decl (lower-cased), following
// mattn/go-sqlite3 and rqlite (API.md §1.4 "Values").
//
// modernc already parses TEXT in DATE/DATETIME/TIMESTAMP columns into a
// time.Time (its formats are mattn's plus Go's time.String() form) and
// leaves the text as a string when that fails: such a string becomes the
// zero time, as in mattn.
func convertValue(v any, decl string) any {
	switch x := v.(type) {
	case int64:
		switch {
		case isTimeType(decl):
			return unixTime(x).Format(time.RFC3339Nano)
		case decl == "boolean":
			return x > 0
		}
		return x
	case string:
		if isTimeType(decl) {
			return zeroTimeText
		}
		return x
	case time.Time:
		return x.Format(time.RFC3339Nano)
	case []byte:
		if isTextType(decl) {
			return string(x)
		}
		if x == nil {
			return []byte{}
		}
		return x
	}
	return v // nil, float64
}

// unixTime reads an INTEGER in a date column as mattn does: Unix seconds,
// or milliseconds when |v| > 1e12; always UTC.
func unixTime(v int64) time.Time {
	if v > 1e12 || v < -1e12 {
		return time.UnixMilli(v).UTC()
	}
	return time.Unix(v, 0).UTC()
}

// valueType names the type of a converted value, for a column without a
// declared type (rqlite's populateEmptyTypes).
func valueType(v any) string {
	switch v.(type) {
	case int64:
		return "integer"
	case float64:
		return "real"
	case string:
		return "text"
	case []byte:
		return "blob"
	case bool:
		return "boolean"
	}
	return ""
}

// RawTimeLayout renders, in Raw results, a TEXT value that the driver
// parsed into a time (a DATE, DATETIME or TIMESTAMP column); a zone is
// added only when the time is not in UTC.
const RawTimeLayout = "2006-01-02 15:04:05.999999999"

// rawValue is a value as SQLite stores it, for Raw results.
func rawValue(v any) any {
	if t, ok := v.(time.Time); ok {
		if t.Location() == time.UTC {
			return t.Format(RawTimeLayout)
		}
		return t.Format(RawTimeLayout + "-07:00")
	}
	return v
}

// readRows drains rows into a rows entry: declared types lower-cased,
// values converted, and undeclared types taken from the first row; with
// raw, types as declared and values as stored (Request.Raw).
func readRows(rows *sql.Rows, maxBytes int64, rawMode bool) (Result, error) {
	res := Result{Rows: true}
	cols, err := rows.Columns()
	if err != nil {
		return Result{}, err
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		return Result{}, err
	}
	res.Columns = cols
	res.Types = make([]string, len(cols))
	for i, ct := range cts {
		if rawMode {
			res.Types[i] = ct.DatabaseTypeName()
		} else {
			res.Types[i] = strings.ToLower(ct.DatabaseTypeName())
		}
	}
	decl := append([]string(nil), res.Types...)
	var size int64
	raw := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return Result{}, err
		}
		row := make([]any, len(cols))
		for i := range raw {
			if rawMode {
				row[i] = rawValue(raw[i])
			} else {
				row[i] = convertValue(raw[i], decl[i])
			}
		}
		if res.Values == nil && !rawMode {
			fillTypes(res.Types, row)
		}
		res.Values = append(res.Values, row)
		if size += rowSize(row); maxBytes > 0 && size > maxBytes {
			return Result{}, fmt.Errorf("%w: more than %d bytes in memory (see -db-max-result-size)", ErrResultTooLarge, maxBytes)
		}
	}
	return res, rows.Err()
}

// rowSize estimates the memory a converted row holds: a slice header, an
// interface per value, and the bytes of strings and BLOBs.
func rowSize(row []any) int64 {
	n := int64(24 + 16*len(row))
	for _, v := range row {
		switch v := v.(type) {
		case string:
			n += int64(len(v))
		case []byte:
			n += int64(len(v))
		}
	}
	return n
}

// fillTypes sets each undeclared column type from the first row's value.
func fillTypes(types []string, row []any) {
	for i, t := range types {
		if t == "" {
			types[i] = valueType(row[i])
		}
	}
}

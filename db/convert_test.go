package db

import (
	"fmt"
	"reflect"
	"testing"
)

// TestDB_Query_Values checks every value-rendering rule of API.md §1.4:
// a value stored in a column of a declared type comes back as the right
// Go value with the right type string.
func TestDB_Query_Values(t *testing.T) {
	tests := []struct {
		name     string
		decl     string // declared column type; "" for none
		literal  string // SQL literal stored
		want     any
		wantType string
	}{
		{"integer", "INTEGER", "5", int64(5), "integer"},
		{"int keeps its name", "INT", "-7", int64(-7), "int"},
		{"real", "REAL", "2.0", float64(2), "real"},
		{"text", "TEXT", "'fiona'", "fiona", "text"},
		{"varchar verbatim", "VARCHAR(500)", "'x'", "x", "varchar(500)"},
		{"null", "TEXT", "NULL", nil, "text"},
		{"blob", "BLOB", "x'DEADBEEF'", []byte{0xde, 0xad, 0xbe, 0xef}, "blob"},
		{"empty blob", "BLOB", "x''", []byte{}, "blob"},
		{"blob in text", "TEXT", "x'4142'", "AB", "text"},
		{"blob in json", "JSON", "x'4142'", "AB", "json"},
		{"blob in varchar", "VARCHAR(10)", "x'41'", "A", "varchar(10)"},
		{"blob in varying character", "VARYING CHARACTER(10)", "x'41'", "A", "varying character(10)"},
		{"blob in nchar", "NCHAR(2)", "x'41'", "A", "nchar(2)"},
		{"blob in native character", "NATIVE CHARACTER(2)", "x'41'", "A", "native character(2)"},
		{"blob in nvarchar", "NVARCHAR(2)", "x'41'", "A", "nvarchar(2)"},
		{"blob in clob", "CLOB", "x'41'", "A", "clob"},
		{"empty blob in text", "TEXT", "x''", "", "text"},
		{"blob in int", "INT", "x'41'", []byte{0x41}, "int"},
		{"datetime text", "DATETIME", "'2024-01-02 03:04:05'", "2024-01-02T03:04:05Z", "datetime"},
		{"datetime T Z", "DATETIME", "'2024-01-02T03:04:05Z'", "2024-01-02T03:04:05Z", "datetime"},
		{"datetime fraction", "TIMESTAMP", "'2024-01-02 03:04:05.123456789'", "2024-01-02T03:04:05.123456789Z", "timestamp"},
		{"datetime offset kept", "DATETIME", "'2024-01-02 03:04:05-05:00'", "2024-01-02T03:04:05-05:00", "datetime"},
		{"datetime minutes", "DATETIME", "'2024-01-02 03:04'", "2024-01-02T03:04:00Z", "datetime"},
		{"date only", "DATE", "'2024-01-02'", "2024-01-02T00:00:00Z", "date"},
		{"datetime garbage", "DATETIME", "'not a time'", "0001-01-01T00:00:00Z", "datetime"},
		{"datetime seconds", "DATETIME", "1700000000", "2023-11-14T22:13:20Z", "datetime"},
		{"datetime millis", "DATETIME", "1700000000123", "2023-11-14T22:13:20.123Z", "datetime"},
		{"datetime real untouched", "DATETIME", "1.5", 1.5, "datetime"},
		{"datetime null", "DATETIME", "NULL", nil, "datetime"},
		{"time is not a date", "TIME", "'03:04'", "03:04", "time"},
		{"boolean true", "BOOLEAN", "1", true, "boolean"},
		{"boolean false", "BOOLEAN", "0", false, "boolean"},
		{"boolean 2", "BOOLEAN", "2", true, "boolean"},
		{"boolean negative", "BOOLEAN", "-1", false, "boolean"},
		{"boolean text", "BOOLEAN", "'yes'", "yes", "boolean"},
		{"undeclared integer", "", "1", int64(1), "integer"},
		{"undeclared real", "", "1.5", 1.5, "real"},
		{"undeclared text", "", "'a'", "a", "text"},
		{"undeclared blob is text", "", "x'41'", "A", "text"},
		{"undeclared null", "", "NULL", nil, ""},
	}
	d := newTestDB(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := fmt.Sprintf("t%d", i)
			exec(t, d, fmt.Sprintf("CREATE TABLE %s (c %s)", table, tt.decl),
				fmt.Sprintf("INSERT INTO %s VALUES(%s)", table, tt.literal))
			res := query(t, d, &Request{Statements: stmts("SELECT c FROM " + table)})
			if len(res) != 1 || res[0].Error != "" || len(res[0].Values) != 1 {
				t.Fatalf("query: %+v", res)
			}
			got := res[0].Values[0][0]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value: got %#v (%T), want %#v (%T)", got, got, tt.want, tt.want)
			}
			if gotType := res[0].Types[0]; gotType != tt.wantType {
				t.Errorf("type: got %q, want %q", gotType, tt.wantType)
			}
		})
	}
}

// TestDB_Query_ExpressionTypes checks undeclared types come from the first
// row, and columns are named as SQLite names them.
func TestDB_Query_ExpressionTypes(t *testing.T) {
	d := newTestDB(t)
	exec(t, d, "CREATE TABLE foo (id INTEGER PRIMARY KEY, v)",
		"INSERT INTO foo(v) VALUES(NULL)", "INSERT INTO foo(v) VALUES(1.5)")
	tests := []struct {
		name      string
		sql       string
		wantCols  []string
		wantTypes []string
	}{
		{"count", "SELECT COUNT(*) FROM foo", []string{"COUNT(*)"}, []string{"integer"}},
		{"literal", "SELECT 1", []string{"1"}, []string{"integer"}},
		{"first row null", "SELECT v FROM foo ORDER BY id", []string{"v"}, []string{""}},
		{"first row real", "SELECT v FROM foo ORDER BY id DESC", []string{"v"}, []string{"real"}},
		{"no rows", "SELECT id, v FROM foo WHERE 0", []string{"id", "v"}, []string{"integer", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := query(t, d, &Request{Statements: stmts(tt.sql)})
			if len(res) != 1 || res[0].Error != "" {
				t.Fatalf("query: %+v", res)
			}
			if !reflect.DeepEqual(res[0].Columns, tt.wantCols) || !reflect.DeepEqual(res[0].Types, tt.wantTypes) {
				t.Errorf("got %q %q, want %q %q", res[0].Columns, res[0].Types, tt.wantCols, tt.wantTypes)
			}
		})
	}
}

func TestConvertValue_TimeString(t *testing.T) {
	// modernc hands over a string only when its time parse failed.
	if got, want := convertValue("garbage", "date"), "0001-01-01T00:00:00Z"; got != want {
		t.Errorf("got %v, want %v", got, want)
	}
}

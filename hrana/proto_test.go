package hrana

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/rdb/rdb/db"
)

func TestValue_RoundTrip(t *testing.T) {
	cases := []struct {
		in   string
		want any
		out  string
	}{
		{`{"type":"null"}`, nil, `{"type":"null"}`},
		{`{"type":"integer","value":"-9223372036854775808"}`, int64(math.MinInt64), `{"type":"integer","value":"-9223372036854775808"}`},
		{`{"type":"integer","value":42}`, int64(42), `{"type":"integer","value":"42"}`},
		{`{"type":"float","value":1}`, 1.0, `{"type":"float","value":1}`},
		{`{"type":"float","value":-0.5}`, -0.5, `{"type":"float","value":-0.5}`},
		{`{"type":"text","value":"é\"\n"}`, "é\"\n", `{"type":"text","value":"é\"\n"}`},
		{`{"type":"blob","base64":"AAEC/w=="}`, []byte{0, 1, 2, 255}, `{"type":"blob","base64":"AAEC/w"}`},
		{`{"type":"blob","base64":"AAEC/w"}`, []byte{0, 1, 2, 255}, `{"type":"blob","base64":"AAEC/w"}`},
		{`{"type":"blob","base64":""}`, []byte{}, `{"type":"blob","base64":""}`},
	}
	for _, c := range cases {
		var v value
		if err := json.Unmarshal([]byte(c.in), &v); err != nil {
			t.Errorf("decode %s: %v", c.in, err)
			continue
		}
		if !reflect.DeepEqual(v.v, c.want) {
			t.Errorf("decode %s = %#v, want %#v", c.in, v.v, c.want)
		}
		out, err := json.Marshal(v)
		if err != nil || string(out) != c.out {
			t.Errorf("encode %#v = %s, %v; want %s", v.v, out, err, c.out)
		}
	}
	for _, bad := range []string{
		`{"type":"integer","value":"1.5"}`, `{"type":"integer","value":"99999999999999999999"}`,
		`{"type":"blob"}`, `{"type":"blob","base64":"!!"}`, `{"type":"date","value":"x"}`, `[]`,
	} {
		var v value
		if err := json.Unmarshal([]byte(bad), &v); !errors.Is(err, errBadValue) {
			t.Errorf("decode %s: %v, want errBadValue", bad, err)
		}
	}
}

func TestToStmtResult(t *testing.T) {
	rows := toStmtResult(db.Result{Rows: true, Columns: []string{"a", "b"}, Types: []string{"INTEGER", ""},
		Values: [][]any{{int64(1), nil}}}, true)
	got, _ := json.Marshal(rows)
	want := `{"cols":[{"name":"a","decltype":"INTEGER"},{"name":"b","decltype":null}],"rows":[[{"type":"integer","value":"1"},{"type":"null"}]],"affected_row_count":0,"last_insert_rowid":null}`
	if string(got) != want {
		t.Errorf("rows result\n%s\nwant\n%s", got, want)
	}
	noRows, _ := json.Marshal(toStmtResult(db.Result{Rows: true, Columns: []string{"a"}, Values: [][]any{{int64(1)}}}, false))
	if string(noRows) != `{"cols":[{"name":"a","decltype":null}],"rows":[],"affected_row_count":0,"last_insert_rowid":null}` {
		t.Errorf("want_rows false: %s", noRows)
	}
	write, _ := json.Marshal(toStmtResult(db.Result{LastInsertID: 7, RowsAffected: 2}, true))
	if string(write) != `{"cols":[],"rows":[],"affected_row_count":2,"last_insert_rowid":"7"}` {
		t.Errorf("write result: %s", write)
	}
}

func TestClassify(t *testing.T) {
	for sql, want := range map[string]stmtKind{
		"BEGIN": kindBegin, "begin immediate": kindBegin, "/* x */ BEGIN EXCLUSIVE TRANSACTION": kindBegin,
		"BEGIN TRANSACTION READONLY": kindBeginReadOnly, "COMMIT": kindCommit, "END TRANSACTION": kindCommit,
		"ROLLBACK": kindRollback, "ROLLBACK TRANSACTION": kindRollback, "ROLLBACK TO sp": kindOther,
		"ROLLBACK TRANSACTION TO sp": kindOther, "SELECT 1": kindOther, "SAVEPOINT a": kindOther, "": kindOther,
	} {
		if got := classify(sql); got != want {
			t.Errorf("classify(%q) = %d, want %d", sql, got, want)
		}
	}
}

func TestStmtError_Codes(t *testing.T) {
	for msg, code := range map[string]string{
		"UNIQUE constraint failed: t.x": "SQLITE_CONSTRAINT",
		"database is locked":            "SQLITE_BUSY",
		`near "SELEC": syntax error`:    "SQLITE_ERROR",
		"no such table: x":              "SQLITE_ERROR",
	} {
		if got := stmtError(msg); got.Code != code || got.Message != msg {
			t.Errorf("stmtError(%q) = %+v, want code %s", msg, got, code)
		}
	}
}

package httpd

import (
	"errors"
	"reflect"
	"testing"

	"github.com/rdb/rdb/db"
)

func TestParseStatements(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []db.Statement
		wantErr error
	}{
		{"strings", `["SELECT 1", "SELECT 2"]`, []db.Statement{{SQL: "SELECT 1"}, {SQL: "SELECT 2"}}, nil},
		{"sql only array", `[["SELECT 1"]]`, []db.Statement{{SQL: "SELECT 1"}}, nil},
		{"mixed", `["A", ["B", 1]]`, []db.Statement{{SQL: "A"}, {SQL: "B", Parameters: []db.Parameter{{Value: int64(1)}}}}, nil},
		{"numbers", `[["S", 1, -1, 1.0, 1.5, 9223372036854775807, 9223372036854775808, 1e3]]`,
			[]db.Statement{{SQL: "S", Parameters: []db.Parameter{{Value: int64(1)}, {Value: int64(-1)}, {Value: 1.0},
				{Value: 1.5}, {Value: int64(9223372036854775807)}, {Value: 9223372036854775808.0}, {Value: 1000.0}}}}, nil},
		{"bools and null", `[["S", true, false, null]]`,
			[]db.Statement{{SQL: "S", Parameters: []db.Parameter{{Value: true}, {Value: false}, {Value: nil}}}}, nil},
		{"blobs", `[["S", [], [0, 255], "x''", "X'0A0b'", "  x'ff'  "]]`,
			[]db.Statement{{SQL: "S", Parameters: []db.Parameter{{Value: []byte{}}, {Value: []byte{0, 255}},
				{Value: []byte{}}, {Value: []byte{0x0a, 0x0b}}, {Value: []byte{0xff}}}}}, nil},
		{"hex-like text", `[["S", "x'f'", "x'gg'", "y'00'", "x'00", "'00'", "x"]]`,
			[]db.Statement{{SQL: "S", Parameters: []db.Parameter{{Value: "x'f'"}, {Value: "x'gg'"}, {Value: "y'00'"},
				{Value: "x'00"}, {Value: "'00'"}, {Value: "x"}}}}, nil},
		{"named sorted", `[["S", {"z": 1, "a": "t"}, 2]]`,
			[]db.Statement{{SQL: "S", Parameters: []db.Parameter{{Name: "a", Value: "t"}, {Name: "z", Value: int64(1)}, {Value: int64(2)}}}}, nil},
		{"empty object", `[["S", {}]]`, []db.Statement{{SQL: "S", Parameters: []db.Parameter{}}}, nil},
		{"empty strings skipped", `["", "A", [""], ["", 1]]`, []db.Statement{{SQL: "A"}}, nil},
		{"only empty strings", `[""]`, []db.Statement{}, nil},
		{"whitespace around", " \n[\"A\"]\n ", []db.Statement{{SQL: "A"}}, nil},
		{"empty", `[]`, nil, ErrNoStatements},
		{"invalid", `[`, nil, ErrInvalidJSON},
		{"not array", `{}`, nil, ErrInvalidRequest},
		{"nested object", `[["S", {"a": {}}]]`, nil, db.ErrUnsupportedType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatements([]byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

func FuzzParseStatements(f *testing.F) {
	for _, seed := range []string{
		`["SELECT 1"]`, `[["INSERT INTO foo VALUES(?, ?)", 1, "fiona"]]`,
		`[["S", {"a": 1, "b": [1, 2, 3]}, null, true, 1.5, "x'00ff'"]]`, `["", ["A"]]`,
		`[]`, `[`, `{}`, `[[]]`, `[1]`, `[["S", {"": 1}]]`, `[["S", [256]]]`, `[["S", 1e999]]`,
		`["A"] trailing`, `null`, `"S"`, `[["S", {"a": {"b": 1}}]]`, "[\"\xff\"]",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		stmts, err := parseStatements(body)
		if err != nil {
			if stmts != nil {
				t.Fatalf("error %v with statements %v", err, stmts)
			}
			for _, e := range []error{ErrInvalidJSON, ErrInvalidRequest, ErrNoStatements, db.ErrUnsupportedType} {
				if errors.Is(err, e) {
					return
				}
			}
			t.Fatalf("unexpected error kind: %v", err)
		}
		for i, st := range stmts {
			if st.SQL == "" {
				t.Fatalf("statement %d has empty SQL", i)
			}
			for j, p := range st.Parameters {
				switch p.Value.(type) {
				case nil, int64, float64, string, []byte, bool:
				default:
					t.Fatalf("statement %d parameter %d has type %T", i, j, p.Value)
				}
			}
		}
	})
}

package shell

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/rdb/rdb/client"
)

func TestStatementComplete(t *testing.T) {
	tests := []struct {
		sql  string
		want bool
	}{
		{"SELECT 1;", true},
		{"SELECT 1", false},
		{"SELECT 1;  \n", true},
		{"SELECT ';'", false},
		{"SELECT ';' ;", true},
		{`SELECT ";"`, false},
		{"SELECT [a;b]", false},
		{"SELECT 1 -- done;", false},
		{"SELECT 1; -- trailing comment", true},
		{"SELECT 1 /* ; */", false},
		{"SELECT 1 /* x */;", true},
		{"SELECT 'it''s';", true},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.sql, func(t *testing.T) {
			if got := statementComplete(tt.sql); got != tt.want {
				t.Errorf("statementComplete(%q) = %v, want %v", tt.sql, got, tt.want)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"null", nil, "<nil>"},
		{"integer", json.Number("9007199254740993"), "9007199254740993"},
		{"real", json.Number("1.5"), "1.5"},
		{"text", "日本語", "日本語"},
		{"bool", true, "true"},
		{"blob array", []any{json.Number("1"), json.Number("255")}, "[1 255]"},
		{"object", map[string]any{"a": json.Number("1")}, `{"a":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatValue(tt.v, "<nil>"); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPrintTree(t *testing.T) {
	doc := map[string]any{
		"b":    map[string]any{"y": "2", "x": json.Number("1"), "skip": nil},
		"a":    true,
		"list": []any{"p", "q"},
	}
	var buf bytes.Buffer
	printTree(&buf, doc, 0)
	want := "a: true\nb:\n  x: 1\n  y: 2\nlist: [\"p\",\"q\"]\n"
	if got := buf.String(); got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
}

func TestComplete(t *testing.T) {
	s := &Shell{} // no client needed for dot-commands
	tests := []struct {
		line     string
		wantHead string
		want     []string
	}{
		{".ta", "", []string{".tables"}},
		{".s", "", []string{".schema", ".show", ".snapshot", ".status", ".stepdown", ".sysdump"}},
		{"  .RE", "  ", []string{".read", ".ready", ".reap", ".remove", ".restore"}},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			head, got, _ := s.complete(tt.line, len(tt.line))
			if head != tt.wantHead || !equal(got, tt.want) {
				t.Errorf("complete(%q) = %q, %q; want %q, %q", tt.line, head, got, tt.wantHead, tt.want)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestRenderColumn(t *testing.T) {
	res := func(cols []string, rows ...[]any) client.Result {
		return client.Result{Columns: cols, Values: rows}
	}
	tests := []struct {
		name  string
		r     client.Result
		width int
		want  string
	}{
		{"no rows", res([]string{"id"}), 0, "+----+\n| id |\n+----+\n"},
		{"null and unicode", res([]string{"a", "b"}, []any{nil, "日本"}), 0,
			"+-------+------+\n| a     | b    |\n+-------+------+\n| <nil> | 日本 |\n+-------+------+\n"},
		{"embedded newline", res([]string{"v"}, []any{"x\ny"}), 0, "+---+\n| v |\n+---+\n| x |\n| y |\n+---+\n"},
		{"wraps to the terminal", res([]string{"id", "text"}, []any{json.Number("1"), "abcdefghijklmnopqrst"}), 24,
			"+----+-----------------+\n| id | text            |\n+----+-----------------+\n| 1  | abcdefghijklmno |\n|    | pqrst           |\n+----+-----------------+\n"},
		{"wide enough", res([]string{"t"}, []any{"abc"}), 80, "+-----+\n| t   |\n+-----+\n| abc |\n+-----+\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			renderColumn(&buf, tt.r, false, tt.width)
			if got := buf.String(); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

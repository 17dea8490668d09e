package httpd

import (
	"bytes"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/rdb/rdb/db"
)

// sameStatements is reflect.DeepEqual, and also tells -0.0 from 0.0,
// which == (and so DeepEqual) does not.
func sameStatements(a, b []db.Statement) bool {
	if !reflect.DeepEqual(a, b) {
		return false
	}
	for i := range a {
		for j, p := range a[i].Parameters {
			if f, ok := p.Value.(float64); ok && math.Float64bits(f) != math.Float64bits(b[i].Parameters[j].Value.(float64)) {
				return false
			}
		}
	}
	return true
}

// checkFastSameAsSlow fails unless the fast path bails out on body or
// gives exactly what the slow path gives, and unless parseStatements
// gives exactly what the slow path gives. It reports whether the fast
// path handled body.
func checkFastSameAsSlow(t *testing.T, body []byte) (handled bool) {
	t.Helper()
	want, werr := parseStatementsSlow(body)
	got, gerr := parseStatements(body)
	if !reflect.DeepEqual(gerr, werr) || !sameStatements(got, want) {
		t.Fatalf("%q: parseStatements gives %#v, %v; the slow path %#v, %v", body, got, gerr, want, werr)
	}
	fast, ok := parseStatementsFast(body)
	if !ok {
		if fast != nil {
			t.Fatalf("%q: the fast path bails out with statements %#v", body, fast)
		}
		return false
	}
	if werr != nil || !sameStatements(fast, want) {
		t.Fatalf("%q: the fast path gives %#v; the slow path %#v, %v", body, fast, want, werr)
	}
	return true
}

type fastCase struct {
	name    string
	body    string
	handled bool // the fast path must handle it (true) or bail out (false)
}

var fastCases = []fastCase{
	// the forms the fast path exists for
	{"strings", `["SELECT 1", "SELECT 2"]`, true},
	{"sql only array", `[["SELECT 1"]]`, true},
	{"positional", `[["INSERT INTO t(v, s) VALUES(?, ?)", 123, "text"]]`, true},
	{"mixed", `["A", ["B", 1], "C", ["D"]]`, true},
	{"scalars", `[["S", 1, -1, 1.5, "s", true, false, null]]`, true},
	{"repeated sql", `["A", "A", ["A", 1], "B", ["A"], "\u0041", "A"]`, true},
	{"empty strings skipped", `["", "A", [""], ["", 1], ""]`, true},
	{"only empty strings", `["", [""]]`, true},
	{"empty parameter string", `[["S", ""]]`, true},
	{"whitespace", " \t\r\n[ \t\r\n\"A\" \n, \r[ \t\"B\" ,\n1 , \"x\"\t]\n]\t\r\n ", true},
	{"no whitespace", `[["S",1,"x",null],"T"]`, true},
	// numbers: int64 when strconv.ParseInt takes the text, else float64
	{"small ints", `[["S", 0, -0, 1, 9, 10, 255, 256, -255, -256, 65536]]`, true},
	{"18 and 19 digits", `[["S", 999999999999999999, -999999999999999999, 1000000000000000000, -1000000000000000000]]`, true},
	{"int64 limits", `[["S", 9223372036854775807, -9223372036854775808]]`, true},
	{"beyond int64", `[["S", 9223372036854775808, -9223372036854775809, 12345678901234567890123, 1` + strings.Repeat("0", 300) + `]]`, true},
	{"fractions", `[["S", 1.0, 0.0, -0.0, 1.5, 0.1, -2.25, 3.141592653589793, 0.30000000000000004]]`, true},
	{"exponents", `[["S", 1e3, 1E3, 1e+3, 1e-3, -1e3, 2.5e-7, 0e0, -0e0, 1e308, 1.7976931348623157e308, 4e-324, 1e-400, -1e-400]]`, true},
	{"zero with exponent", `[["S", 0E-5, 0.000e10]]`, true},
	{"float beyond float64", `[["S", 1e309]]`, false},
	{"negative float beyond float64", `[["S", -1e309]]`, false},
	{"integer beyond float64", `[["S", 1` + strings.Repeat("0", 309) + `]]`, false},
	{"leading zero", `[["S", 01]]`, false},
	{"negative leading zero", `[["S", -01]]`, false},
	{"trailing dot", `[["S", 1.]]`, false},
	{"leading dot", `[["S", .5]]`, false},
	{"bare minus", `[["S", -]]`, false},
	{"double minus", `[["S", --1]]`, false},
	{"plus", `[["S", +1]]`, false},
	{"empty exponent", `[["S", 1e]]`, false},
	{"signed empty exponent", `[["S", 1e+]]`, false},
	{"hex number", `[["S", 0x10]]`, false},
	{"underscore", `[["S", 1_000]]`, false},
	{"letters after number", `[["S", 123abc]]`, false},
	{"NaN", `[["S", NaN]]`, false},
	{"Infinity", `[["S", Infinity]]`, false},
	// strings
	{"escapes", `["\"\\\/\b\f\n\r\t", ["S", "\"\\\/\b\f\n\r\t"]]`, true},
	{"unicode escapes", `["\u0041\u00e9\u4e2d", ["S", "\u0000", "\uFFFF", "\u00E9"]]`, true},
	{"surrogate pair", `[["S", "\ud83d\ude00", "a\uD83D\uDE00b"]]`, true},
	{"lone surrogates", `[["\ud83d", "\ude00", "\ud83dx", "\ud83d\u0041", "\ude00\ud83d", "\ud83d\ud83d\ude00"]]`, true},
	{"escaped sql repeated", `["\u0041", "A", "\u0041"]`, true},
	{"raw UTF-8", "[\"\u00e9\u4e2d\U0001F600\", [\"S\", \"caf\u00e9\", \"\u2028\u2029\", \"\xef\xbf\xbd\"]]", true},
	{"DEL", "[[\"S\", \"\x7f\"]]", true},
	{"invalid UTF-8", "[\"\xff\", [\"S\", \"a\xc3\", \"\xc0\x80\", \"\xed\xa0\x80\", \"\xf4\x90\x80\x80\", \"\xe2\x82\"]]", true},
	{"invalid UTF-8 with escapes", "[[\"S\", \"\xff\\n\xfe\"]]", true},
	{"control character", "[\"a\x01b\"]", false},
	{"raw newline", "[[\"S\", \"a\nb\"]]", false},
	{"NUL", "[\"a\x00\"]", false},
	{"short unicode escape", `["\u12"]`, false},
	{"bad unicode escape", `["\u12G4"]`, false},
	{"unknown escape", `["\x"]`, false},
	{"single quote escape", `["\'"]`, false},
	{"backslash at end", `["\`, false},
	{"unterminated string", `["a`, false},
	{"unterminated parameter", `[["S", "a]]`, false},
	{"unterminated after escape", `["a\n`, false},
	{"unterminated invalid UTF-8", "[\"\xff", false},
	// hex literals become BLOBs, other strings stay TEXT
	{"hex literals", `[["S", "x''", "X'0A0b'", "  x'ff'  ", "x'00ff'"]]`, true},
	{"hex-like text", `[["S", "x'f'", "x'gg'", "y'00'", "x'00", "'00'", "x", "x'\u0030\u0030'"]]`, true},
	{"hex literal as sql", `["x'00'"]`, true},
	// literals
	{"literal prefix", `[["S", tru]]`, false},
	{"literal suffix", `[["S", truex]]`, false},
	{"long null", `[["S", nulll]]`, false},
	{"capital literal", `[["S", True]]`, false},
	{"truncated literal", `[["S", fals`, false},
	// forms left to the slow path
	{"named", `[["S", {"a": 1}]]`, false},
	{"named and positional", `[["S", 1, {"z": 1, "a": "t"}, 2]]`, false},
	{"empty object", `[["S", {}]]`, false},
	{"blob array", `[["S", [0, 255]]]`, false},
	{"empty blob array", `[["S", []]]`, false},
	{"bad blob", `[["S", [256]]]`, false},
	{"nested object", `[["S", {"a": {}}]]`, false},
	{"empty array", `[]`, false},
	{"empty array with space", ` [ ] `, false},
	{"empty element", `[[]]`, false},
	{"number sql", `[[1]]`, false},
	{"null sql", `[[null, 1]]`, false},
	{"number element", `[1]`, false},
	{"null element", `[null]`, false},
	{"object element", `[{}]`, false},
	{"object body", `{}`, false},
	{"string body", `"S"`, false},
	{"null body", `null`, false},
	{"empty body", ``, false},
	{"blank body", " \n ", false},
	{"nested statement", `[[["S"]]]`, false},
	// malformed
	{"unterminated array", `[`, false},
	{"unterminated after element", `["A"`, false},
	{"unterminated after comma", `["A",`, false},
	{"unterminated statement", `[["S", 1]`, false},
	{"unterminated statement after comma", `[["S", 1,`, false},
	{"close only", `]`, false},
	{"trailing comma", `["A",]`, false},
	{"trailing comma in statement", `[["S", 1,]]`, false},
	{"leading comma", `[,"A"]`, false},
	{"double comma", `["A",,"B"]`, false},
	{"missing comma", `["A" "B"]`, false},
	{"missing comma in statement", `[["S" 1]]`, false},
	{"colon", `[["S": 1]]`, false},
	{"trailing data", `["A"] x`, false},
	{"second array", `["A"] ["B"]`, false},
	{"extra bracket", `["A"]]`, false},
	{"trailing NUL", "[\"A\"]\x00", false},
	{"BOM", "\ufeff[\"A\"]", false},
	{"form feed", "\f[\"A\"]", false},
	{"no-break space", "[\u00a0\"A\"]", false},
	{"deep", strings.Repeat("[", 10001) + strings.Repeat("]", 10001), false},
}

func TestParseStatementsFast_SameAsSlow(t *testing.T) {
	for _, tc := range fastCases {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkFastSameAsSlow(t, []byte(tc.body)); got != tc.handled {
				t.Errorf("%q: handled = %t, want %t", tc.body, got, tc.handled)
			}
		})
	}
}

// TestParseStatementsFast_HandlesCommonForms pins the values (not only
// the agreement with the slow path) of the forms the fast path exists for.
func TestParseStatementsFast_HandlesCommonForms(t *testing.T) {
	bulk := bulkBody(3)
	tests := []struct {
		name string
		body string
		want []db.Statement
	}{
		{"strings", `["CREATE TABLE t(v, s)", "SELECT 1"]`, []db.Statement{{SQL: "CREATE TABLE t(v, s)"}, {SQL: "SELECT 1"}}},
		{"point query", `[["SELECT id, v, s FROM t WHERE id=?", 42]]`,
			[]db.Statement{{SQL: "SELECT id, v, s FROM t WHERE id=?", Parameters: []db.Parameter{{Value: int64(42)}}}}},
		{"scalars", `[["S", 12345, -7, 2.5, 1e2, "text", "x'0aff'", true, false, null], "T", ["U"]]`,
			[]db.Statement{{SQL: "S", Parameters: []db.Parameter{{Value: int64(12345)}, {Value: int64(-7)}, {Value: 2.5},
				{Value: 100.0}, {Value: "text"}, {Value: []byte{0x0a, 0xff}}, {Value: true}, {Value: false}, {Value: nil}}},
				{SQL: "T"}, {SQL: "U"}}},
		{"bulk", bulk, []db.Statement{bulkStatement(0), bulkStatement(1), bulkStatement(2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			got, ok := parseStatementsFast(body)
			if !ok {
				t.Fatalf("%q: the fast path bails out", body)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %#v\nwant %#v", got, tt.want)
			}
			for i, st := range got {
				if cap(st.Parameters) != len(st.Parameters) {
					t.Errorf("statement %d: cap %d > len %d: an append would write over the next statement's", i, cap(st.Parameters), len(st.Parameters))
				}
			}
			copy(body, bytes.Repeat([]byte{'#'}, len(body))) // the handler's buffer may be reused
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("statements share memory with the body: got %#v after overwriting it", got)
			}
		})
	}
}

// FuzzFastParseStatements: on any body the fast path bails out or agrees
// exactly with the slow path, and parseStatements always agrees with it.
func FuzzFastParseStatements(f *testing.F) {
	for _, tc := range fastCases {
		f.Add([]byte(tc.body))
	}
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Add([]byte(bulkBody(3)))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkFastSameAsSlow(t, body)
	})
}

func bulkStatement(i int) db.Statement {
	return db.Statement{SQL: "INSERT INTO t(v, s) VALUES(?, ?)",
		Parameters: []db.Parameter{{Value: int64(12345 + i)}, {Value: fmt.Sprintf("text %d abcdefghijklmnopqrstuvwxyz", i)}}}
}

// bulkBody is n INSERTs with two positional parameters each.
func bulkBody(n int) string {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range n {
		if i > 0 {
			sb.WriteString(",")
		}
		fmt.Fprintf(&sb, `["INSERT INTO t(v, s) VALUES(?, ?)", %d, "text %d abcdefghijklmnopqrstuvwxyz"]`, 12345+i, i)
	}
	sb.WriteString("]")
	return sb.String()
}

// BenchmarkParseStatementsFast: parseStatements (which takes the fast
// path on these bodies) against the slow path alone.
func BenchmarkParseStatementsFast(b *testing.B) {
	bodies := []struct{ name, body string }{
		{"bulk1000", bulkBody(1000)},
		{"point", `[["SELECT id, v, s FROM t WHERE id=?", 42]]`},
	}
	paths := []struct {
		name string
		fn   func([]byte) ([]db.Statement, error)
	}{{"parseStatements", parseStatements}, {"slow", parseStatementsSlow}}
	for _, bd := range bodies {
		for _, p := range paths {
			b.Run(bd.name+"/"+p.name, func(b *testing.B) {
				body := []byte(bd.body)
				b.ReportAllocs()
				b.SetBytes(int64(len(body)))
				for b.Loop() {
					if _, err := p.fn(body); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

package httpd

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// referenceJSON is what parseStatements used before decodeJSON:
// encoding/json with UseNumber, and nothing but whitespace after the
// value.
func referenceJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data")
	}
	return v, nil
}

// checkSameAsEncodingJSON fails unless decodeJSON and encoding/json agree
// on body: both refuse it, or both give the same value.
func checkSameAsEncodingJSON(t *testing.T, body []byte) {
	t.Helper()
	want, werr := referenceJSON(body)
	got, gerr := decodeJSON(body)
	if (werr != nil) != (gerr != nil) {
		t.Fatalf("%q: decodeJSON error %v, encoding/json error %v", body, gerr, werr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: decodeJSON gives %#v, encoding/json %#v", body, got, want)
	}
}

var jsonCases = []string{
	`["SELECT 1"]`, `[["INSERT INTO foo VALUES(?, ?)", 1, "fiona"]]`,
	`[["S", {"a": 1, "b": [1, 2, 3]}, null, true, false, 1.5, -0, 1e3, 1E-2, -12.5e+7, "x'00ff'"]]`,
	`[]`, `[ ]`, ` [ "a" , "b" ] `, "\t\n\r[1]\n", `[`, `]`, `{}`, `{"a":1,"a":2}`, `[[]]`, `[{}]`,
	`[1,]`, `[,1]`, `[1 2]`, `{"a" 1}`, `{"a":}`, `{1:2}`, `{"a":1,}`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `-01`, `00`, `1.5e3x`, `123abc`, `123 abc`, `truex`, `tru`, `nul`, `nulll`,
	`"S"`, `null`, `true`, ``, `   `, "\ufeff[1]",
	`["\"\\\/\b\f\n\r\t"]`, `["\u0041\u00e9\u4e2d"]`, `["\ud83d\ude00"]`, `["\ud83d"]`, `["\ud83dx"]`,
	`["\ud83d\u0041"]`, `["\ude00\ud83d"]`, `["\u12"]`, `["\u12G4"]`, `["\x"]`, `["\`, `["a`,
	"[\"\xff\"]", "[\"a\xc3\"]", "[\"\xe2\x82\xac\"]", "[\"\xef\xbf\xbd\"]", "[\"\x01\"]", "[\"\x7f\"]",
	`[["S", 1e999]]`, `[["S", 12345678901234567890123]]`, `[["S", {"": 1}]]`,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 9999) + strings.Repeat("]", 9999),
}

func TestDecodeJSON_SameAsEncodingJSON(t *testing.T) {
	for _, c := range jsonCases {
		checkSameAsEncodingJSON(t, []byte(c))
	}
}

// FuzzDecodeJSON: decodeJSON and encoding/json agree on any input.
func FuzzDecodeJSON(f *testing.F) {
	for _, c := range jsonCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkSameAsEncodingJSON(t, body)
	})
}

func BenchmarkDecodeJSON_Bulk(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("[")
	for i := range 1000 {
		if i > 0 {
			sb.WriteString(",")
		}
		sb.WriteString(`["INSERT INTO t(v, s) VALUES(?, ?)", 12345, "abcdefghijklmnopqrstuvwxyz012345"]`)
	}
	sb.WriteString("]")
	body := []byte(sb.String())
	for _, tc := range []struct {
		name string
		fn   func([]byte) (any, error)
	}{{"decodeJSON", decodeJSON}, {"encoding-json", referenceJSON}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.fn(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

package httpd

import (
	"encoding/json"
	"errors"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// errJSONSyntax is any malformed JSON; parseStatements maps it to
// ErrInvalidJSON.
var errJSONSyntax = errors.New("json syntax error")

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

// decodeJSON parses b, one JSON value and nothing after it but
// whitespace, into exactly what encoding/json's Decoder with UseNumber
// gives for an `any`: map[string]any (the last of duplicate keys wins),
// []any, string (invalid UTF-8 and lone surrogates become U+FFFD),
// json.Number, bool and nil. Request bodies are parsed on every write,
// and a bulk request holds thousands of values: this costs a fraction of
// encoding/json's reflection (jsonvalue_test.go checks that both agree).
func decodeJSON(b []byte) (any, error) {
	d := jsonDecoder{b: b}
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.i != len(b) {
		return nil, errJSONSyntax
	}
	return v, nil
}

type jsonDecoder struct {
	b []byte
	i int
}

func (d *jsonDecoder) skipSpace() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	d.skipSpace()
	if d.i >= len(d.b) {
		return nil, errJSONSyntax
	}
	switch c := d.b[d.i]; {
	case c == '[':
		return d.array(depth + 1)
	case c == '{':
		return d.object(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || ('0' <= c && c <= '9'):
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	}
	return nil, errJSONSyntax
}

func (d *jsonDecoder) literal(lit string) error {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return errJSONSyntax
	}
	d.i += len(lit)
	return nil
}

func (d *jsonDecoder) array(depth int) (any, error) {
	out := []any{}
	err := d.list(depth, ']', func() error {
		v, err := d.value(depth)
		out = append(out, v)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (d *jsonDecoder) object(depth int) (any, error) {
	out := map[string]any{}
	err := d.list(depth, '}', func() error {
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return errJSONSyntax
		}
		k, err := d.str()
		if err != nil {
			return err
		}
		d.skipSpace()
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return errJSONSyntax
		}
		d.i++
		v, err := d.value(depth)
		out[k] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// list scans the elements of an array or object whose opening bracket is
// at d.i, calling elem for each, up to the closing byte.
func (d *jsonDecoder) list(depth int, closing byte, elem func() error) error {
	if depth > maxJSONDepth {
		return errJSONSyntax
	}
	d.i++ // [ or {
	d.skipSpace()
	if d.i < len(d.b) && d.b[d.i] == closing {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		d.skipSpace()
		if d.i >= len(d.b) {
			return errJSONSyntax
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case closing:
			d.i++
			return nil
		default:
			return errJSONSyntax
		}
	}
}

func (d *jsonDecoder) number() (any, error) {
	start := d.i
	if !d.scanNumber() {
		return nil, errJSONSyntax
	}
	return json.Number(d.b[start:d.i]), nil
}

// scanNumber moves past -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
// at d.i; false if the bytes there are not such a number.
func (d *jsonDecoder) scanNumber() bool {
	if d.b[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.b) && d.b[d.i] == '0':
		d.i++
	case d.i < len(d.b) && '1' <= d.b[d.i] && d.b[d.i] <= '9':
		d.digits()
	default:
		return false
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return false
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return false
		}
	}
	return true
}

func (d *jsonDecoder) digits() int {
	n := 0
	for d.i < len(d.b) && '0' <= d.b[d.i] && d.b[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}

// str scans a string at d.i (its opening quote). Strings without escapes
// or invalid UTF-8, the common case, cost one copy.
func (d *jsonDecoder) str() (string, error) {
	d.i++ // "
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := string(d.b[start:d.i])
			d.i++
			return s, nil
		case c == '\\' || c >= utf8.RuneSelf:
			return d.slowStr(start)
		case c < 0x20:
			return "", errJSONSyntax
		}
		d.i++
	}
	return "", errJSONSyntax
}

// slowStr finishes a string with escapes or non-ASCII bytes, as
// encoding/json unquotes it.
func (d *jsonDecoder) slowStr(start int) (string, error) {
	out := make([]byte, 0, d.i-start+16)
	out = append(out, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return string(out), nil
		case c < 0x20:
			return "", errJSONSyntax
		case c == '\\':
			var err error
			if out, err = d.escape(out); err != nil {
				return "", err
			}
		case c < utf8.RuneSelf:
			out = append(out, c)
			d.i++
		default:
			r, size := utf8.DecodeRune(d.b[d.i:])
			if r == utf8.RuneError && size == 1 {
				r = unicode.ReplacementChar
			}
			out = utf8.AppendRune(out, r)
			d.i += size
		}
	}
	return "", errJSONSyntax
}

// escape appends the escape sequence at d.i (its backslash), decoded.
func (d *jsonDecoder) escape(out []byte) ([]byte, error) {
	if d.i+1 >= len(d.b) {
		return nil, errJSONSyntax
	}
	c := d.b[d.i+1]
	if simple, ok := simpleEscapes[c]; ok {
		d.i += 2
		return append(out, simple), nil
	}
	if c != 'u' {
		return nil, errJSONSyntax
	}
	r, ok := hex4(d.b[d.i+2:])
	if !ok {
		return nil, errJSONSyntax
	}
	d.i += 6
	if utf16.IsSurrogate(r) {
		if r2, ok := d.nextU4(); ok {
			if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
				d.i += 6
				return utf8.AppendRune(out, dec), nil
			}
		}
		r = unicode.ReplacementChar
	}
	return utf8.AppendRune(out, r), nil
}

// nextU4 reads a \uXXXX escape at d.i without consuming it.
func (d *jsonDecoder) nextU4() (rune, bool) {
	if d.i+1 >= len(d.b) || d.b[d.i] != '\\' || d.b[d.i+1] != 'u' {
		return 0, false
	}
	return hex4(d.b[d.i+2:])
}

var simpleEscapes = map[byte]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}

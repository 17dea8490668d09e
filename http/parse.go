package httpd

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/rdb/rdb/db"
)

// parseStatements parses a JSON request body (API.md §1.3): an array
// whose elements are SQL strings or [sql, params…] arrays. Statements
// whose SQL is the empty string are dropped, as the database would skip
// them anyway, so an accepted body may yield no statements; only a
// literal [] is ErrNoStatements.
func parseStatements(b []byte) ([]db.Statement, error) {
	if stmts, ok := parseStatementsFast(b); ok {
		return stmts, nil
	}
	return parseStatementsSlow(b)
}

// parseStatementsSlow parses any body, as parseStatements documents,
// through decodeJSON's generic values.
func parseStatementsSlow(b []byte) ([]db.Statement, error) {
	v, err := decodeJSON(b)
	if err != nil {
		return nil, ErrInvalidJSON // malformed, or trailing data after the array
	}
	elems, ok := v.([]any)
	if !ok {
		return nil, ErrInvalidRequest
	}
	if len(elems) == 0 {
		return nil, ErrNoStatements
	}
	stmts := make([]db.Statement, 0, len(elems))
	for _, e := range elems {
		st, err := parseStatement(e)
		if err != nil {
			return nil, err
		}
		if st.SQL != "" {
			stmts = append(stmts, st)
		}
	}
	return stmts, nil
}

// parseStatement parses one element: "sql" or ["sql", p1, {name: p2}…].
func parseStatement(e any) (db.Statement, error) {
	switch x := e.(type) {
	case string:
		return db.Statement{SQL: x}, nil
	case []any:
		if len(x) == 0 {
			return db.Statement{}, ErrInvalidRequest
		}
		sql, ok := x[0].(string)
		if !ok {
			return db.Statement{}, ErrInvalidRequest
		}
		params, err := parseParameters(x[1:])
		if err != nil {
			return db.Statement{}, err
		}
		return db.Statement{SQL: sql, Parameters: params}, nil
	}
	return db.Statement{}, ErrInvalidRequest
}

// parseParameters maps the items after the SQL: an object adds one named
// parameter per key (sorted, for determinism), anything else one
// positional parameter.
func parseParameters(items []any) ([]db.Parameter, error) {
	if len(items) == 0 {
		return nil, nil
	}
	params := make([]db.Parameter, 0, len(items))
	for _, it := range items {
		obj, ok := it.(map[string]any)
		if !ok {
			v, err := parameterValue(it)
			if err != nil {
				return nil, err
			}
			params = append(params, db.Parameter{Value: v})
			continue
		}
		names := make([]string, 0, len(obj))
		for k := range obj {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if k == "" {
				return nil, ErrInvalidRequest // would turn into a positional parameter
			}
			v, err := parameterValue(obj[k])
			if err != nil {
				return nil, err
			}
			params = append(params, db.Parameter{Name: k, Value: v})
		}
	}
	return params, nil
}

// parameterValue maps one JSON value to a bindable Go value (API.md §1.3).
func parameterValue(v any) (any, error) {
	switch x := v.(type) {
	case nil, bool:
		return x, nil
	case json.Number:
		return numberValue(x)
	case string:
		if b, ok := hexLiteral(x); ok {
			return b, nil
		}
		return x, nil
	case []any:
		return byteArray(x)
	case map[string]any:
		return nil, fmt.Errorf("%w: nested object", db.ErrUnsupportedType)
	}
	return nil, fmt.Errorf("%w: %T", db.ErrUnsupportedType, v)
}

// numberValue is an int64 if n is an integer that fits, else a finite
// float64.
func numberValue(n json.Number) (any, error) {
	if i, err := n.Int64(); err == nil {
		return i, nil
	}
	f, err := n.Float64()
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("%w: number %s out of range", db.ErrUnsupportedType, n.String())
	}
	return f, nil
}

// byteArray maps an array of integers 0..255 to a BLOB.
func byteArray(items []any) ([]byte, error) {
	b := make([]byte, len(items))
	for i, it := range items {
		n, ok := it.(json.Number)
		if !ok {
			return nil, fmt.Errorf("%w: array element of type %s", db.ErrUnsupportedType, jsonKind(it))
		}
		v, err := n.Int64()
		if err != nil || v < 0 || v > 255 {
			return nil, fmt.Errorf("%w: array element %s is not a byte", db.ErrUnsupportedType, n.String())
		}
		b[i] = byte(v)
	}
	return b, nil
}

// hexLiteral decodes a SQLite BLOB literal x'…' or X'…' (surrounding
// spaces allowed); ok is false for anything else, which stays TEXT.
func hexLiteral(s string) (b []byte, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 3 || (s[0] != 'x' && s[0] != 'X') || s[1] != '\'' || s[len(s)-1] != '\'' {
		return nil, false
	}
	b, err := hex.DecodeString(s[2 : len(s)-1])
	if err != nil {
		return nil, false
	}
	return b, true
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

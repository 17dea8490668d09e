package hrana

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/rdb/rdb/db"
)

// pipelineRequest is the body of POST /v2/pipeline and /v3/pipeline.
type pipelineRequest struct {
	Baton    *string         `json:"baton"`
	Requests []streamRequest `json:"requests"`
}

// pipelineResponse is its answer.
type pipelineResponse struct {
	Baton   *string        `json:"baton"`
	BaseURL *string        `json:"base_url"`
	Results []streamResult `json:"results"`
}

// streamRequest is one request of a pipeline; which fields apply
// depends on Type.
type streamRequest struct {
	Type  string  `json:"type"`
	Stmt  *stmt   `json:"stmt,omitempty"`
	Batch *batch  `json:"batch,omitempty"`
	SQL   *string `json:"sql,omitempty"`
	SQLID *int32  `json:"sql_id,omitempty"`
}

// streamResult is {"type":"ok","response":…} or {"type":"error","error":…}.
type streamResult struct {
	Type     string          `json:"type"`
	Response *streamResponse `json:"response,omitempty"`
	Error    *protoError     `json:"error,omitempty"`
}

// streamResponse is the response of one request: Type repeats the
// request's type.
type streamResponse struct {
	Type         string `json:"type"`
	Result       any    `json:"result,omitempty"`
	IsAutocommit *bool  `json:"is_autocommit,omitempty"`
}

// stmt is a Hrana Stmt.
type stmt struct {
	SQL       *string    `json:"sql,omitempty"`
	SQLID     *int32     `json:"sql_id,omitempty"`
	Args      []value    `json:"args,omitempty"`
	NamedArgs []namedArg `json:"named_args,omitempty"`
	WantRows  *bool      `json:"want_rows,omitempty"`
}

type namedArg struct {
	Name  string `json:"name"`
	Value value  `json:"value"`
}

// batch is a Hrana Batch.
type batch struct {
	Steps []batchStep `json:"steps"`
}

type batchStep struct {
	Condition *batchCond `json:"condition,omitempty"`
	Stmt      stmt       `json:"stmt"`
}

// batchCond is a step's condition.
type batchCond struct {
	Type  string      `json:"type"`
	Step  *int        `json:"step,omitempty"`
	Cond  *batchCond  `json:"cond,omitempty"`
	Conds []batchCond `json:"conds,omitempty"`
}

// stmtResult is a Hrana StmtResult.
type stmtResult struct {
	Cols             []col     `json:"cols"`
	Rows             [][]value `json:"rows"`
	AffectedRowCount int64     `json:"affected_row_count"`
	LastInsertRowid  *string   `json:"last_insert_rowid"`
}

type col struct {
	Name     *string `json:"name"`
	Decltype *string `json:"decltype"`
}

// batchResult is a Hrana BatchResult.
type batchResult struct {
	StepResults []*stmtResult `json:"step_results"`
	StepErrors  []*protoError `json:"step_errors"`
}

// describeResult is a Hrana DescribeResult.
type describeResult struct {
	Params     []describeParam `json:"params"`
	Cols       []col           `json:"cols"`
	IsExplain  bool            `json:"is_explain"`
	IsReadonly bool            `json:"is_readonly"`
}

type describeParam struct {
	Name *string `json:"name"`
}

// protoError is a Hrana Error.
type protoError struct {
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

func (e *protoError) Error() string { return e.Message }

// value is a Hrana Value: {"type": null|integer|float|text|blob, ...}.
type value struct {
	v any // nil, int64, float64, string, []byte
}

// errBadValue rejects a value that does not decode.
var errBadValue = errors.New("invalid value")

func (v *value) UnmarshalJSON(b []byte) error {
	var raw struct {
		Type   string          `json:"type"`
		Value  json.RawMessage `json:"value"`
		Base64 *string         `json:"base64"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("%w: %w", errBadValue, err)
	}
	switch raw.Type {
	case "null":
		v.v = nil
	case "integer":
		var s string
		if err := json.Unmarshal(raw.Value, &s); err != nil {
			// Accept a bare JSON number too.
			var n json.Number
			if err := json.Unmarshal(raw.Value, &n); err != nil {
				return fmt.Errorf("%w: integer value %s", errBadValue, raw.Value)
			}
			s = n.String()
		}
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%w: integer value %q", errBadValue, s)
		}
		v.v = i
	case "float":
		var f float64
		if err := json.Unmarshal(raw.Value, &f); err != nil {
			var s string
			if err2 := json.Unmarshal(raw.Value, &s); err2 != nil {
				return fmt.Errorf("%w: float value %s", errBadValue, raw.Value)
			}
			if f, err = strconv.ParseFloat(s, 64); err != nil {
				return fmt.Errorf("%w: float value %q", errBadValue, s)
			}
		}
		v.v = f
	case "text":
		var s string
		if err := json.Unmarshal(raw.Value, &s); err != nil {
			return fmt.Errorf("%w: text value %s", errBadValue, raw.Value)
		}
		v.v = s
	case "blob":
		if raw.Base64 == nil {
			return fmt.Errorf("%w: blob without base64", errBadValue)
		}
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(*raw.Base64, "="))
		if err != nil {
			return fmt.Errorf("%w: blob base64: %w", errBadValue, err)
		}
		v.v = b
	default:
		return fmt.Errorf("%w: type %q", errBadValue, raw.Type)
	}
	return nil
}

func (v value) MarshalJSON() ([]byte, error) {
	switch x := v.v.(type) {
	case nil:
		return []byte(`{"type":"null"}`), nil
	case int64:
		return []byte(`{"type":"integer","value":"` + strconv.FormatInt(x, 10) + `"}`), nil
	case bool:
		if x {
			return []byte(`{"type":"integer","value":"1"}`), nil
		}
		return []byte(`{"type":"integer","value":"0"}`), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return []byte(`{"type":"null"}`), nil // JSON has no NaN; SQLite stores none either
		}
		return []byte(`{"type":"float","value":` + strconv.FormatFloat(x, 'g', -1, 64) + `}`), nil
	case string:
		s, err := json.Marshal(x)
		if err != nil {
			return nil, err
		}
		return append(append([]byte(`{"type":"text","value":`), s...), '}'), nil
	case []byte:
		return []byte(`{"type":"blob","base64":"` + base64.RawStdEncoding.EncodeToString(x) + `"}`), nil
	}
	return nil, fmt.Errorf("hrana: cannot encode %T", v.v)
}

// toStmtResult renders a db.Result for a client; wantRows false drops the
// rows but keeps the columns.
func toStmtResult(r db.Result, wantRows bool) *stmtResult {
	out := &stmtResult{Cols: []col{}, Rows: [][]value{}}
	if !r.Rows {
		out.AffectedRowCount = r.RowsAffected
		id := strconv.FormatInt(r.LastInsertID, 10)
		out.LastInsertRowid = &id
		return out
	}
	for i, name := range r.Columns {
		c := col{Name: ptr(name)}
		if i < len(r.Types) && r.Types[i] != "" {
			c.Decltype = ptr(r.Types[i])
		}
		out.Cols = append(out.Cols, c)
	}
	if wantRows {
		out.Rows = make([][]value, len(r.Values))
		for i, row := range r.Values {
			vals := make([]value, len(row))
			for j, x := range row {
				vals[j] = value{v: x}
			}
			out.Rows[i] = vals
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

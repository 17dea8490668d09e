package httpd

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"

	"github.com/labstack/echo/v4"

	"github.com/rdb/rdb/db"
)

// mimeJSON is the Content-Type of every JSON response.
const mimeJSON = "application/json; charset=utf-8"

// response is the top-level document of execute/query/request (API.md
// §1.4). Field order and omitempty are the wire format.
type response struct {
	Results        []any   `json:"results"`
	Error          string  `json:"error,omitempty"`
	Time           float64 `json:"time,omitempty"`
	SequenceNumber int64   `json:"sequence_number,omitempty"`
	RaftIndex      uint64  `json:"raft_index,omitempty"`
}

type writeEntry struct {
	LastInsertID int64   `json:"last_insert_id,omitempty"`
	RowsAffected int64   `json:"rows_affected,omitempty"`
	Error        string  `json:"error,omitempty"`
	Time         float64 `json:"time,omitempty"`
}

// writeEntryAssoc is a write entry in associative form: a trailing
// "rows":null (MUST-COPY).
type writeEntryAssoc struct {
	writeEntry
	Rows []map[string]any `json:"rows"`
}

type errorEntry struct {
	Error string `json:"error"`
}

type rowsEntry struct {
	Columns []string `json:"columns,omitempty"`
	Types   []string `json:"types,omitempty"`
	Values  [][]any  `json:"values,omitempty"`
	Error   string   `json:"error,omitempty"`
	Time    float64  `json:"time,omitempty"`
}

type rowsEntryAssoc struct {
	Types map[string]string `json:"types,omitempty"`
	Rows  []map[string]any  `json:"rows"`
	Error string            `json:"error,omitempty"`
	Time  float64           `json:"time,omitempty"`
}

// renderMode says which endpoint produced the results; it only matters
// for the associative shape of statement errors.
type renderMode int

const (
	renderExecute renderMode = iota // execute and request: errors are write-shaped
	renderQuery                     // query: errors are rows-shaped
)

// renderer turns db.Results into the JSON entries of §1.4.
type renderer struct {
	associative bool
	blobArray   bool
	mode        renderMode
}

func (r renderer) results(rs []db.Result) []any {
	out := make([]any, 0, len(rs))
	for i := range rs {
		out = append(out, r.entry(&rs[i]))
	}
	return out
}

func (r renderer) entry(res *db.Result) any {
	switch {
	case res.Rows:
		if r.associative {
			return r.rowsAssoc(res)
		}
		return rowsEntry{Columns: res.Columns, Types: res.Types, Values: r.values(res.Values),
			Error: res.Error, Time: res.Time}
	case res.Error != "" && res.LastInsertID == 0 && res.RowsAffected == 0:
		return r.statementError(res.Error)
	}
	w := writeEntry{LastInsertID: res.LastInsertID, RowsAffected: res.RowsAffected,
		Error: res.Error, Time: res.Time}
	if r.associative {
		return writeEntryAssoc{writeEntry: w}
	}
	return w
}

// statementError renders a statement that failed before producing rows
// or counters: {"error":…}, or in associative form the shape the
// endpoint's entries have.
func (r renderer) statementError(msg string) any {
	switch {
	case !r.associative:
		return errorEntry{Error: msg}
	case r.mode == renderQuery:
		return rowsEntryAssoc{Rows: []map[string]any{}, Error: msg}
	}
	return writeEntryAssoc{writeEntry: writeEntry{Error: msg}}
}

func (r renderer) rowsAssoc(res *db.Result) rowsEntryAssoc {
	e := rowsEntryAssoc{Rows: make([]map[string]any, 0, len(res.Values)), Error: res.Error, Time: res.Time}
	if len(res.Types) > 0 {
		e.Types = make(map[string]string, len(res.Columns))
		for i, col := range res.Columns {
			if i < len(res.Types) {
				e.Types[col] = res.Types[i]
			}
		}
	}
	for _, row := range res.Values {
		m := make(map[string]any, len(res.Columns))
		for i, col := range res.Columns {
			if i < len(row) {
				m[col] = r.value(row[i])
			}
		}
		e.Rows = append(e.Rows, m)
	}
	return e
}

func (r renderer) values(rows [][]any) [][]any {
	if len(rows) == 0 {
		return nil
	}
	out := make([][]any, len(rows))
	for i, row := range rows {
		out[i] = make([]any, len(row))
		for j, v := range row {
			out[i][j] = r.value(v)
		}
	}
	return out
}

// value prepares one cell for encoding/json: BLOBs become base64 text (""
// when empty) or, with blob_array, an array of byte values; non-finite
// floats, which JSON cannot carry, become null.
func (r renderer) value(v any) any {
	switch x := v.(type) {
	case []byte:
		if !r.blobArray {
			return base64.StdEncoding.EncodeToString(x)
		}
		ints := make([]int, len(x))
		for i, b := range x {
			ints[i] = int(b)
		}
		return ints
	case float64:
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return nil
		}
	}
	return v
}

// marshal encodes v like encoding/json does by default (sorted map keys,
// <>& escaped), 4-space indented when pretty, without a trailing newline.
func marshal(v any, pretty bool) ([]byte, error) {
	var b []byte
	var err error
	if pretty {
		b, err = json.MarshalIndent(v, "", "    ")
	} else {
		b, err = json.Marshal(v)
	}
	if err != nil {
		return nil, fmt.Errorf("encode response: %w", err)
	}
	return b, nil
}

// mimeKey, set on a request's echo.Context, replaces mimeJSON as the
// Content-Type of its JSON replies, errors included.
const mimeKey = "rdb.mime"

// writeJSON marshals v and writes it with the JSON Content-Type, or the
// one set under mimeKey.
func writeJSON(c echo.Context, code int, v any, pretty bool) error {
	b, err := marshal(v, pretty)
	if err != nil {
		return err
	}
	mime := mimeJSON
	if m, ok := c.Get(mimeKey).(string); ok {
		mime = m
	}
	return c.Blob(code, mime, b)
}

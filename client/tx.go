package client

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// ErrTxDone is returned by a Tx that was committed, rolled back or lost.
var ErrTxDone = errors.New("transaction already ended")

// Tx is an interactive transaction: BEGIN, then statements sent one
// request at a time, each seeing the earlier ones' writes, then COMMIT or
// ROLLBACK. It speaks rdb's Hrana endpoint (/v2/pipeline, the protocol of
// libSQL clients): the stream lives on the leader, reached through the
// node the client talks to, and COMMIT makes the whole transaction one
// Raft log entry. Other writes wait while it is open, so keep it short;
// the node rolls back one left idle for -tx-idle-timeout (10 s). A Tx is
// safe for concurrent use, but its statements run one at a time.
type Tx struct {
	c    *Client
	base string // the node holding the stream

	mu    sync.Mutex
	baton string
	done  bool
}

// Begin starts an interactive transaction on the node the client talks
// to (which serves it through the leader). It fails with a *SQLError
// "database is locked" when another transaction held the write slot for
// the node's -tx-busy-timeout.
func (c *Client) Begin(ctx context.Context) (*Tx, error) {
	t := &Tx{c: c, base: c.URL()}
	out, err := t.pipeline(ctx, []hranaRequest{execReq(Statement{SQL: "BEGIN"})}, false)
	if err != nil {
		return nil, err
	}
	if e := out[0].Error; e != nil {
		t.pipeline(context.Background(), []hranaRequest{{Type: "close"}}, true)
		return nil, &SQLError{Index: -1, Msg: e.Message}
	}
	return t, nil
}

// Execute runs statements inside the transaction, in order, and returns a
// Result per statement (reads with rows, writes with counts). A statement
// error is in its Result's Error and leaves the transaction open; an error
// return means the transaction is gone (ErrTxDone, or the stream expired:
// a *StatusError).
func (t *Tx) Execute(ctx context.Context, stmts ...Statement) ([]Result, error) {
	reqs := make([]hranaRequest, len(stmts))
	for i, s := range stmts {
		reqs[i] = execReq(s)
	}
	out, err := t.pipeline(ctx, reqs, false)
	if err != nil {
		return nil, err
	}
	res := make([]Result, len(out))
	for i, o := range out {
		res[i] = o.result()
	}
	return res, nil
}

// Commit commits the transaction: when it returns nil every node holds
// it, as the statements saw it.
func (t *Tx) Commit(ctx context.Context) error { return t.end(ctx, "COMMIT") }

// Rollback abandons the transaction. Rolling back one that already ended
// returns ErrTxDone.
func (t *Tx) Rollback(ctx context.Context) error { return t.end(ctx, "ROLLBACK") }

func (t *Tx) end(ctx context.Context, sql string) error {
	out, err := t.pipeline(ctx, []hranaRequest{execReq(Statement{SQL: sql}), {Type: "close"}}, true)
	if err != nil {
		return err
	}
	if e := out[0].Error; e != nil {
		return &SQLError{Index: -1, Msg: e.Message}
	}
	return nil
}

// hranaRequest, hranaResult and friends are the JSON of HRANA.md.
type hranaRequest struct {
	Type string     `json:"type"`
	Stmt *hranaStmt `json:"stmt,omitempty"`
}

type hranaStmt struct {
	SQL       string          `json:"sql"`
	Args      []hranaValue    `json:"args,omitempty"`
	NamedArgs []hranaNamedArg `json:"named_args,omitempty"`
	WantRows  bool            `json:"want_rows"`
}

type hranaNamedArg struct {
	Name  string     `json:"name"`
	Value hranaValue `json:"value"`
}

type hranaValue struct {
	Type   string          `json:"type"`
	Value  json.RawMessage `json:"value,omitempty"`
	Base64 string          `json:"base64,omitempty"`
}

type hranaResult struct {
	Type     string `json:"type"`
	Response struct {
		Result *struct {
			Cols []struct {
				Name     *string `json:"name"`
				Decltype *string `json:"decltype"`
			} `json:"cols"`
			Rows             [][]hranaValue `json:"rows"`
			AffectedRowCount int64          `json:"affected_row_count"`
			LastInsertRowid  *string        `json:"last_insert_rowid"`
		} `json:"result"`
	} `json:"response"`
	Error *struct {
		Message string `json:"message"`
		Code    string `json:"code"`
	} `json:"error"`
}

func execReq(s Statement) hranaRequest {
	hs := &hranaStmt{SQL: s.SQL, WantRows: true}
	for _, p := range s.Params {
		hs.Args = append(hs.Args, toHrana(p))
	}
	for k, v := range s.Named {
		hs.NamedArgs = append(hs.NamedArgs, hranaNamedArg{Name: k, Value: toHrana(v)})
	}
	return hranaRequest{Type: "execute", Stmt: hs}
}

// toHrana encodes a parameter as a Hrana value.
func toHrana(v any) hranaValue {
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	switch x := v.(type) {
	case nil:
		return hranaValue{Type: "null"}
	case bool:
		if x {
			return hranaValue{Type: "integer", Value: str("1")}
		}
		return hranaValue{Type: "integer", Value: str("0")}
	case int:
		return hranaValue{Type: "integer", Value: str(strconv.Itoa(x))}
	case int64:
		return hranaValue{Type: "integer", Value: str(strconv.FormatInt(x, 10))}
	case float64:
		return hranaValue{Type: "float", Value: json.RawMessage(strconv.FormatFloat(x, 'g', -1, 64))}
	case json.Number:
		if _, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return hranaValue{Type: "integer", Value: str(string(x))}
		}
		return hranaValue{Type: "float", Value: json.RawMessage(x)}
	case []byte:
		return hranaValue{Type: "blob", Base64: base64.RawStdEncoding.EncodeToString(x)}
	case string:
		return hranaValue{Type: "text", Value: str(x)}
	}
	return hranaValue{Type: "text", Value: str(fmt.Sprint(v))}
}

// result turns one execute result into the Result of the rqlite API's
// shape: numbers as json.Number, BLOBs as base64 text.
func (o hranaResult) result() Result {
	if o.Error != nil {
		return Result{Error: o.Error.Message}
	}
	r := o.Response.Result
	if r == nil {
		return Result{}
	}
	if len(r.Cols) == 0 {
		res := Result{RowsAffected: r.AffectedRowCount}
		if r.LastInsertRowid != nil {
			res.LastInsertID, _ = strconv.ParseInt(*r.LastInsertRowid, 10, 64)
		}
		return res
	}
	res := Result{Columns: make([]string, len(r.Cols)), Types: make([]string, len(r.Cols)), Values: [][]any{}}
	for i, c := range r.Cols {
		if c.Name != nil {
			res.Columns[i] = *c.Name
		}
		if c.Decltype != nil {
			res.Types[i] = strings.ToLower(*c.Decltype)
		}
	}
	for _, row := range r.Rows {
		vals := make([]any, len(row))
		for j, v := range row {
			vals[j] = fromHrana(v)
		}
		res.Values = append(res.Values, vals)
	}
	return res
}

func fromHrana(v hranaValue) any {
	switch v.Type {
	case "integer":
		var s string
		json.Unmarshal(v.Value, &s)
		return json.Number(s)
	case "float":
		return json.Number(v.Value)
	case "text":
		var s string
		json.Unmarshal(v.Value, &s)
		return s
	case "blob": // padded, as the rqlite API sends BLOBs
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(v.Base64, "="))
		if err != nil {
			return v.Base64
		}
		return base64.StdEncoding.EncodeToString(b)
	}
	return nil
}

// pipeline sends reqs on the transaction's stream. closing marks the
// transaction done whatever happens.
func (t *Tx) pipeline(ctx context.Context, reqs []hranaRequest, closing bool) ([]hranaResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return nil, ErrTxDone
	}
	if closing {
		t.done = true
	}
	body := map[string]any{"requests": reqs}
	if t.baton != "" {
		body["baton"] = t.baton
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("encode pipeline: %w", err)
	}
	r := request{method: http.MethodPost, path: "/v2/pipeline", body: bytes.NewReader(b), contentType: "application/json"}
	resp, err := t.c.send(ctx, t.base+t.c.cfg.prefix()+r.path, r)
	if err != nil {
		t.done = true
		return nil, &explainedError{op: "POST " + t.base + r.path, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.done = true
		return nil, statusError(resp)
	}
	var out struct {
		Baton   *string       `json:"baton"`
		Results []hranaResult `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.done = true
		return nil, fmt.Errorf("decode pipeline response: %w", err)
	}
	if len(out.Results) != len(reqs) {
		t.done = true
		return nil, fmt.Errorf("pipeline response: %d results for %d requests", len(out.Results), len(reqs))
	}
	if out.Baton == nil {
		t.done = true
	} else {
		t.baton = *out.Baton
	}
	return out.Results, nil
}

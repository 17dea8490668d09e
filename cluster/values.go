package cluster

import (
	"fmt"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// kind tags a value on the wire: msgpack decoding into `any` would turn
// int64 into uint64 and []byte into string. Values are part of the wire
// format.
type kind uint8

const (
	kindNull kind = iota
	kindInt
	kindFloat
	kindText
	kindBlob
	kindBool
)

// wireValue is a tagged db value, encoded as a compact array.
type wireValue struct {
	_struct bool `codec:",toarray"`
	Kind    kind
	I       int64
	F       float64
	S       string
	B       []byte
}

func toWireValue(v any) (wireValue, error) {
	switch x := v.(type) {
	case nil:
		return wireValue{Kind: kindNull}, nil
	case int64:
		return wireValue{Kind: kindInt, I: x}, nil
	case float64:
		return wireValue{Kind: kindFloat, F: x}, nil
	case string:
		return wireValue{Kind: kindText, S: x}, nil
	case []byte:
		return wireValue{Kind: kindBlob, B: x}, nil
	case bool:
		w := wireValue{Kind: kindBool}
		if x {
			w.I = 1
		}
		return w, nil
	}
	return wireValue{}, fmt.Errorf("value of type %T: %w", v, db.ErrUnsupportedType)
}

func (w wireValue) value() (any, error) {
	switch w.Kind {
	case kindNull:
		return nil, nil
	case kindInt:
		return w.I, nil
	case kindFloat:
		return w.F, nil
	case kindText:
		return w.S, nil
	case kindBlob:
		if w.B == nil {
			return []byte{}, nil
		}
		return w.B, nil
	case kindBool:
		return w.I != 0, nil
	}
	return nil, fmt.Errorf("value kind %d: %w", w.Kind, db.ErrUnsupportedType)
}

type wireParam struct {
	Name  string
	Value wireValue
}

type wireStatement struct {
	SQL    string
	Params []wireParam
}

// wireRequest is store.Request on the wire. TestWire_FieldCounts fails
// when store.Request or db.Request gains a field this does not carry.
type wireRequest struct {
	Statements          []wireStatement
	Transaction         bool
	DBTimeout           time.Duration
	NoRandom            bool
	NoTime              bool
	NoParse             bool
	Timings             bool
	Level               store.Level
	Freshness           time.Duration
	FreshnessStrict     bool
	LinearizableTimeout time.Duration
}

func toWireRequest(r *store.Request) (*wireRequest, error) {
	w := &wireRequest{
		Statements: make([]wireStatement, len(r.Statements)), Transaction: r.Transaction,
		DBTimeout: r.Timeout, NoRandom: r.NoRandom, NoTime: r.NoTime, NoParse: r.NoParse, Timings: r.Timings,
		Level: r.Level, Freshness: r.Freshness, FreshnessStrict: r.FreshnessStrict,
		LinearizableTimeout: r.LinearizableTimeout,
	}
	for i, s := range r.Statements {
		ws := wireStatement{SQL: s.SQL, Params: make([]wireParam, len(s.Parameters))}
		for j, p := range s.Parameters {
			v, err := toWireValue(p.Value)
			if err != nil {
				return nil, fmt.Errorf("statement %d parameter %d: %w", i, j, err)
			}
			ws.Params[j] = wireParam{Name: p.Name, Value: v}
		}
		w.Statements[i] = ws
	}
	return w, nil
}

func (w *wireRequest) request() (*store.Request, error) {
	r := &store.Request{
		Request: db.Request{
			Statements: make([]db.Statement, len(w.Statements)), Transaction: w.Transaction,
			Timeout: w.DBTimeout, NoRandom: w.NoRandom, NoTime: w.NoTime, NoParse: w.NoParse, Timings: w.Timings,
		},
		Level: w.Level, Freshness: w.Freshness, FreshnessStrict: w.FreshnessStrict,
		LinearizableTimeout: w.LinearizableTimeout,
	}
	for i, ws := range w.Statements {
		s := db.Statement{SQL: ws.SQL}
		if len(ws.Params) > 0 {
			s.Parameters = make([]db.Parameter, len(ws.Params))
		}
		for j, p := range ws.Params {
			v, err := p.Value.value()
			if err != nil {
				return nil, fmt.Errorf("statement %d parameter %d: %w", i, j, err)
			}
			s.Parameters[j] = db.Parameter{Name: p.Name, Value: v}
		}
		r.Statements[i] = s
	}
	return r, nil
}

// wireResult is db.Result on the wire.
type wireResult struct {
	Rows         bool
	Columns      []string
	Types        []string
	Values       [][]wireValue
	LastInsertID int64
	RowsAffected int64
	Error        string
	Time         float64
}

type wireResponse struct {
	Results   []wireResult
	RaftIndex uint64
	ServedBy  string
}

func toWireResponse(r store.Response) (*wireResponse, error) {
	w := &wireResponse{Results: make([]wireResult, len(r.Results)), RaftIndex: r.RaftIndex, ServedBy: r.ServedBy}
	for i, res := range r.Results {
		wr := wireResult{
			Rows: res.Rows, Columns: res.Columns, Types: res.Types, LastInsertID: res.LastInsertID,
			RowsAffected: res.RowsAffected, Error: res.Error, Time: res.Time,
		}
		if res.Values != nil {
			wr.Values = make([][]wireValue, len(res.Values))
		}
		for j, row := range res.Values {
			wr.Values[j] = make([]wireValue, len(row))
			for k, v := range row {
				wv, err := toWireValue(v)
				if err != nil {
					return nil, fmt.Errorf("result %d row %d column %d: %w", i, j, k, err)
				}
				wr.Values[j][k] = wv
			}
		}
		w.Results[i] = wr
	}
	return w, nil
}

func (w *wireResponse) response() (store.Response, error) {
	r := store.Response{Results: make([]db.Result, len(w.Results)), RaftIndex: w.RaftIndex, ServedBy: w.ServedBy}
	for i, wr := range w.Results {
		res := db.Result{
			Rows: wr.Rows, Columns: wr.Columns, Types: wr.Types, LastInsertID: wr.LastInsertID,
			RowsAffected: wr.RowsAffected, Error: wr.Error, Time: wr.Time,
		}
		if wr.Values != nil {
			res.Values = make([][]any, len(wr.Values))
		}
		for j, row := range wr.Values {
			res.Values[j] = make([]any, len(row))
			for k, wv := range row {
				v, err := wv.value()
				if err != nil {
					return store.Response{}, fmt.Errorf("result %d row %d column %d: %w", i, j, k, err)
				}
				res.Values[j][k] = v
			}
		}
		r.Results[i] = res
	}
	return r, nil
}

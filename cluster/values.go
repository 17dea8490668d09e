package cluster

import (
	"fmt"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// wireValue is a db.Tagged value, encoded as a compact array (the layout
// is part of the wire format).
type wireValue struct {
	_struct bool `codec:",toarray"`
	Kind    db.Kind
	I       int64
	F       float64
	S       string
	B       []byte
}

func toWireValue(v any) (wireValue, error) {
	t, err := db.Tag(v)
	if err != nil {
		return wireValue{}, err
	}
	return wireValue{Kind: t.Kind, I: t.I, F: t.F, S: t.S, B: t.B}, nil
}

func (w wireValue) value() (any, error) {
	return db.Tagged{Kind: w.Kind, I: w.I, F: w.F, S: w.S, B: w.B}.Value()
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
	// Raw (db.Request.Raw, Hrana) is left out when false, so requests
	// without it encode as before.
	Raw bool `codec:",omitempty"`
}

func toWireRequest(r *store.Request) (*wireRequest, error) {
	w := &wireRequest{
		Statements: make([]wireStatement, len(r.Statements)), Transaction: r.Transaction,
		DBTimeout: r.Timeout, NoRandom: r.NoRandom, NoTime: r.NoTime, NoParse: r.NoParse, Timings: r.Timings,
		Level: r.Level, Freshness: r.Freshness, FreshnessStrict: r.FreshnessStrict,
		LinearizableTimeout: r.LinearizableTimeout, Raw: r.Raw,
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
			Raw: w.Raw,
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

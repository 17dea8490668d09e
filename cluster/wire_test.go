package cluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/store"
)

// overTheWire encodes v's wire form and decodes it into a fresh T, as a
// frame crossing the channel would.
func overTheWire[T any](t *testing.T, v *T) *T {
	t.Helper()
	b, err := encodeMsg(v)
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	got := new(T)
	if err := decodeMsg(b, got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return got
}

func TestWire_ValueRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"int64 zero", int64(0)},
		{"int64 max", int64(math.MaxInt64)},
		{"int64 min", int64(math.MinInt64)},
		{"int64 negative", int64(-1)},
		{"float64 integral", float64(2)},
		{"float64 fraction", 1.5},
		{"float64 max", math.MaxFloat64},
		{"string", "fiona"},
		{"empty string", ""},
		{"string that looks like bytes", "\x00\xff"},
		{"bytes", []byte{0xde, 0xad, 0xbe, 0xef}},
		{"empty bytes", []byte{}},
		{"true", true},
		{"false", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &store.Request{Request: db.Request{Statements: []db.Statement{
				{SQL: "SELECT ?", Parameters: []db.Parameter{{Name: "p", Value: tt.v}}},
			}}}
			w, err := toWireRequest(req)
			if err != nil {
				t.Fatalf("to wire: %v", err)
			}
			back, err := overTheWire(t, w).request()
			if err != nil {
				t.Fatalf("from wire: %v", err)
			}
			got := back.Statements[0].Parameters[0].Value
			if reflect.TypeOf(got) != reflect.TypeOf(tt.v) || !reflect.DeepEqual(got, tt.v) {
				t.Errorf("parameter: got %#v (%T), want %#v (%T)", got, got, tt.v, tt.v)
			}

			resp := store.Response{Results: []db.Result{{Rows: true, Columns: []string{"c"}, Types: []string{""}, Values: [][]any{{tt.v}}}}}
			wr, err := toWireResponse(resp)
			if err != nil {
				t.Fatalf("to wire: %v", err)
			}
			rback, err := overTheWire(t, wr).response()
			if err != nil {
				t.Fatalf("from wire: %v", err)
			}
			got = rback.Results[0].Values[0][0]
			if reflect.TypeOf(got) != reflect.TypeOf(tt.v) || !reflect.DeepEqual(got, tt.v) {
				t.Errorf("result value: got %#v (%T), want %#v (%T)", got, got, tt.v, tt.v)
			}
		})
	}
}

func TestWire_RequestResponseRoundTrip(t *testing.T) {
	req := &store.Request{
		Request: db.Request{
			Statements: []db.Statement{
				{SQL: "INSERT INTO t VALUES(?, :name)", Parameters: []db.Parameter{{Value: int64(1)}, {Name: "name", Value: "x"}}},
				{SQL: "SELECT 1"},
			},
			Transaction: true, Timeout: 3 * time.Second, NoRandom: true, NoTime: true, NoParse: true, Timings: true,
		},
		Level: store.LevelLinearizable, Freshness: time.Minute, FreshnessStrict: true, LinearizableTimeout: 7 * time.Second,
	}
	w, err := toWireRequest(req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := overTheWire(t, w).request()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, req) {
		t.Errorf("request:\n got %#v\nwant %#v", got, req)
	}

	resp := store.Response{
		Results: []db.Result{
			{Rows: true, Columns: []string{"id", "name"}, Types: []string{"integer", "text"},
				Values: [][]any{{int64(1), "fiona"}, {int64(2), nil}}, Time: 0.25},
			{LastInsertID: 5, RowsAffected: 2},
			{Error: "near \"blah\": syntax error"},
		},
		RaftIndex: 42, ServedBy: "10.0.0.1:4002",
	}
	wr, err := toWireResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	gotResp, err := overTheWire(t, wr).response()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(gotResp, resp) {
		t.Errorf("response:\n got %#v\nwant %#v", gotResp, resp)
	}
}

func TestWire_UnsupportedValue(t *testing.T) {
	tests := []struct {
		name string
		v    any
	}{
		{"int", 1},
		{"uint64", uint64(1)},
		{"map", map[string]any{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &store.Request{Request: db.Request{Statements: []db.Statement{{SQL: "x", Parameters: []db.Parameter{{Value: tt.v}}}}}}
			if _, err := toWireRequest(req); !errors.Is(err, db.ErrUnsupportedType) {
				t.Errorf("request: got %v, want db.ErrUnsupportedType", err)
			}
			resp := store.Response{Results: []db.Result{{Values: [][]any{{tt.v}}}}}
			if _, err := toWireResponse(resp); !errors.Is(err, db.ErrUnsupportedType) {
				t.Errorf("response: got %v, want db.ErrUnsupportedType", err)
			}
		})
	}
	if _, err := (wireValue{Kind: 99}).value(); !errors.Is(err, db.ErrUnsupportedType) {
		t.Errorf("unknown kind: got %v, want db.ErrUnsupportedType", err)
	}
}

// TestWire_FieldCounts fails when a type the wire copies field by field
// gains a field: add it to values.go, then update the count here.
func TestWire_FieldCounts(t *testing.T) {
	tests := []struct {
		v    any
		want int
	}{
		{store.Request{}, 5},
		{store.Response{}, 3},
		{db.Request{}, 8},
		{db.Statement{}, 2},
		{db.Parameter{}, 2},
		{db.Result{}, 8},
	}
	for _, tt := range tests {
		typ := reflect.TypeOf(tt.v)
		t.Run(typ.String(), func(t *testing.T) {
			if got := typ.NumField(); got != tt.want {
				t.Errorf("%s has %d fields, the wire carries %d: update values.go", typ, got, tt.want)
			}
		})
	}
}

func TestWireError_RestoresSentinels(t *testing.T) {
	for _, e := range wireErrors {
		t.Run(e.err.Error(), func(t *testing.T) {
			orig := fmt.Errorf("index 7: %w", e.err)
			got := overTheWire(t, toWireError(orig)).err()
			if !errors.Is(got, e.err) {
				t.Errorf("errors.Is(%v, %v) is false after the wire", got, e.err)
			}
			if got.Error() != orig.Error() {
				t.Errorf("text: got %q, want %q", got.Error(), orig.Error())
			}
		})
	}
	t.Run("unknown error keeps its text only", func(t *testing.T) {
		got := overTheWire(t, toWireError(errors.New("disk on fire"))).err()
		if got.Error() != "disk on fire" {
			t.Errorf("text: got %q", got.Error())
		}
		for _, e := range wireErrors {
			if errors.Is(got, e.err) {
				t.Errorf("plain error matches sentinel %v", e.err)
			}
		}
	})
	t.Run("codes are unique", func(t *testing.T) {
		seen := map[errCode]bool{}
		for _, e := range wireErrors {
			if seen[e.code] {
				t.Errorf("code %d used twice", e.code)
			}
			seen[e.code] = true
		}
	})
	if toWireError(nil) != nil {
		t.Error("nil error: want nil wire error")
	}
	if !errors.Is(toWireError(context.DeadlineExceeded).err(), context.DeadlineExceeded) {
		t.Error("deadline exceeded not restored")
	}
}

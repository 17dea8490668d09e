package store

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

func TestCommand_RoundTrip(t *testing.T) {
	params := []db.Parameter{
		{Value: nil},
		{Value: int64(0)},
		{Value: int64(-1)},
		{Value: int64(math.MaxInt64)},
		{Value: int64(math.MinInt64)},
		{Value: float64(0)},
		{Value: 2.0},
		{Value: -1.5e300},
		{Value: math.Inf(1)},
		{Value: math.SmallestNonzeroFloat64},
		{Value: ""},
		{Value: "fiona"},
		{Value: "x'DEADBEEF' ünïcödé \x00 nul"},
		{Value: []byte{}},
		{Value: []byte{0, 1, 254, 255}},
		{Value: true},
		{Value: false},
		{Name: "named", Value: int64(7)},
		{Name: "n2", Value: "text"},
	}
	tests := []struct {
		name string
		typ  commandType
		mode db.Mode
		req  db.Request
	}{
		{"no statements", cmdExecute, db.ModeExecute, db.Request{}},
		{"plain", cmdExecute, db.ModeExecute, db.Request{Statements: []db.Statement{{SQL: "CREATE TABLE foo (id INTEGER)"}}}},
		{"every parameter type", cmdRequest, db.ModeRequest, db.Request{
			Statements: []db.Statement{{SQL: "INSERT INTO t VALUES(?)", Parameters: params}},
		}},
		{"flags", cmdQuery, db.ModeQuery, db.Request{
			Statements:  []db.Statement{{SQL: "SELECT 1"}, {SQL: "SELECT ?", Parameters: []db.Parameter{{Value: int64(1)}}}},
			Transaction: true, Timeout: 1500 * time.Millisecond,
			NoRandom: true, NoTime: true, NoParse: true, Timings: true,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cr, err := newCommandRequest(&tt.req, tt.mode)
			if err != nil {
				t.Fatalf("newCommandRequest: %v", err)
			}
			in := &command{Type: tt.typ, Time: 1700000000123456789, Requests: []commandRequest{cr, cr}}
			b, err := encodeCommand(in)
			if err != nil {
				t.Fatalf("encodeCommand: %v", err)
			}
			if got, want := b[0], commandVersion; got != want {
				t.Fatalf("first byte = %d, want version %d", got, want)
			}
			out, err := decodeCommand(b)
			if err != nil {
				t.Fatalf("decodeCommand: %v", err)
			}
			if out.Type != in.Type || out.Time != in.Time || len(out.Requests) != 2 {
				t.Fatalf("decoded type %d time %d with %d requests, want %d %d 2",
					out.Type, out.Time, len(out.Requests), in.Type, in.Time)
			}
			for i := range out.Requests {
				if got, want := out.Requests[i].Mode, tt.mode; got != want {
					t.Fatalf("request %d mode = %d, want %d", i, got, want)
				}
				assertSameRequest(t, out.Requests[i].dbRequest(), &tt.req)
			}
		})
	}
}

// assertSameRequest compares requests, parameter values by exact type and
// bits (reflect.DeepEqual would miss int64 vs float64 in an any only if
// the values differ, and would call NaN unequal).
func assertSameRequest(t *testing.T, got, want *db.Request) {
	t.Helper()
	g, w := *got, *want
	g.Statements, w.Statements = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("request flags = %+v, want %+v", g, w)
	}
	if len(got.Statements) != len(want.Statements) {
		t.Fatalf("%d statements, want %d", len(got.Statements), len(want.Statements))
	}
	for i, ws := range want.Statements {
		gs := got.Statements[i]
		if gs.SQL != ws.SQL || len(gs.Parameters) != len(ws.Parameters) {
			t.Fatalf("statement %d = %q with %d params, want %q with %d",
				i, gs.SQL, len(gs.Parameters), ws.SQL, len(ws.Parameters))
		}
		for j, wp := range ws.Parameters {
			gp := gs.Parameters[j]
			if gp.Name != wp.Name || !sameValue(gp.Value, wp.Value) {
				t.Errorf("statement %d param %d = %q %#v (%T), want %q %#v (%T)",
					i, j, gp.Name, gp.Value, gp.Value, wp.Name, wp.Value, wp.Value)
			}
		}
	}
}

func sameValue(a, b any) bool {
	switch bv := b.(type) {
	case float64:
		av, ok := a.(float64)
		return ok && math.Float64bits(av) == math.Float64bits(bv)
	case []byte:
		av, ok := a.([]byte)
		return ok && av != nil && bytes.Equal(av, bv)
	}
	return reflect.TypeOf(a) == reflect.TypeOf(b) && a == b
}

func TestCommand_FloatBitsExact(t *testing.T) {
	for _, f := range []float64{math.Copysign(0, -1), math.NaN(), math.Inf(-1)} {
		cp, err := newCommandParam(db.Parameter{Value: f})
		if err != nil {
			t.Fatal(err)
		}
		b, err := encodeCommand(&command{Type: cmdExecute, Requests: []commandRequest{{
			Statements: []commandStatement{{SQL: "x", Params: []commandParam{cp}}},
		}}})
		if err != nil {
			t.Fatal(err)
		}
		c, err := decodeCommand(b)
		if err != nil {
			t.Fatal(err)
		}
		got := c.Requests[0].Statements[0].Params[0].value()
		if !sameValue(got, f) {
			t.Errorf("float %v round-tripped to %v", f, got)
		}
	}
}

func TestDecodeCommand_Errors(t *testing.T) {
	good, err := encodeCommand(&command{Type: cmdExecute})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"future version", append([]byte{commandVersion + 1}, good[1:]...)},
		{"garbage", []byte{commandVersion, 0xc1, 0xc1}},
		{"truncated", good[:len(good)-1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := decodeCommand(tt.data); !errors.Is(err, ErrBadCommand) {
				t.Fatalf("decodeCommand error = %v, want ErrBadCommand", err)
			}
		})
	}
}

func TestNewCommandRequest_UnsupportedType(t *testing.T) {
	req := &db.Request{Statements: []db.Statement{{SQL: "x", Parameters: []db.Parameter{{Value: 3}}}}}
	if _, err := newCommandRequest(req, db.ModeExecute); !errors.Is(err, db.ErrUnsupportedType) {
		t.Fatalf("newCommandRequest error = %v, want db.ErrUnsupportedType", err)
	}
}

func TestProcessor_PanicsOnBadEntry(t *testing.T) {
	unknown, err := encodeCommand(&command{Type: 200})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"undecodable", []byte{0xff}},
		{"unknown type", unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProcessor(newFakeDB(), t.TempDir(), testLogger(), nil)
			defer func() {
				if recover() == nil {
					t.Fatal("apply did not panic")
				}
			}()
			p.applyBatch([]*raft.Log{{Index: 1, Type: raft.LogCommand, Data: tt.data}})
		})
	}
}

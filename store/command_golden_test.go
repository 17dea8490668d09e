package store

import (
	"encoding/hex"
	"math"
	"testing"

	"github.com/rdb/rdb/db"
)

// goldenParams has one parameter of every kind the log carries.
var goldenParams = []db.Parameter{
	{Value: nil}, {Value: int64(-7)}, {Value: math.Copysign(0, -1)}, {Value: 1.5},
	{Name: "t", Value: "ü"}, {Value: []byte{0, 0xff}}, {Value: []byte{}}, {Value: true}, {Value: false},
}

// TestEncodeCommand_Golden pins the log entry bytes: entries are
// persisted, so a change of encoding must be a new commandVersion.
func TestEncodeCommand_Golden(t *testing.T) {
	cr, err := newCommandRequest(&db.Request{Statements: []db.Statement{{SQL: "S", Parameters: goldenParams}}}, db.ModeExecute)
	if err != nil {
		t.Fatal(err)
	}
	b, err := encodeCommand(&command{Type: cmdExecute, Time: 1, Requests: []commandRequest{cr}})
	if err != nil {
		t.Fatal(err)
	}
	const want = "0183a16e01a1729181a1739182a170998082a16b01a176f982a16b02a176d3800000000000000082a16b02a176d33ff800000000000083a16b03a16ea174a173a2c3bc82a162c40200ffa16b0481a16b0482a16b05a1760181a16b05a171a153a17401"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("encoding changed:\n got %s\nwant %s", got, want)
	}
	c, err := decodeCommand(b)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Requests[0].dbRequest().Statements[0].Parameters
	for i, p := range got {
		w := goldenParams[i]
		if f, ok := w.Value.(float64); ok {
			if g, ok := p.Value.(float64); !ok || math.Float64bits(g) != math.Float64bits(f) {
				t.Errorf("param %d = %#v, want %#v", i, p.Value, w.Value)
			}
			continue
		}
		if gb, ok := p.Value.([]byte); ok {
			if wb, ok := w.Value.([]byte); !ok || string(gb) != string(wb) {
				t.Errorf("param %d = %#v, want %#v", i, p.Value, w.Value)
			}
			continue
		}
		if p != w {
			t.Errorf("param %d = %#v, want %#v", i, p, w)
		}
	}
}

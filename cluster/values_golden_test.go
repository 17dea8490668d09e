package cluster

import (
	"encoding/hex"
	"math"
	"testing"
)

// TestWireValue_Golden pins the RPC encoding of every value kind: nodes of
// different builds talk over it.
func TestWireValue_Golden(t *testing.T) {
	values := []any{nil, int64(-7), math.Copysign(0, -1), 1.5, "ü", []byte{0, 0xff}, []byte{}, true, false}
	ws := make([]wireValue, len(values))
	for i, v := range values {
		w, err := toWireValue(v)
		if err != nil {
			t.Fatal(err)
		}
		ws[i] = w
	}
	b, err := encodeMsg(ws)
	if err != nil {
		t.Fatal(err)
	}
	const want = "99950000cb0000000000000000a0c09501f9cb0000000000000000a0c0950200cb8000000000000000a0c0950200cb3ff8000000000000a0c0950300cb0000000000000000a2c3bcc0950400cb0000000000000000a0c40200ff950400cb0000000000000000a0c400950501cb0000000000000000a0c0950500cb0000000000000000a0c0"
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("encoding changed:\n got %s\nwant %s", got, want)
	}
	var back []wireValue
	if err := decodeMsg(b, &back); err != nil {
		t.Fatal(err)
	}
	for i, w := range back {
		v, err := w.value()
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := values[i].(float64); ok {
			if g, ok := v.(float64); !ok || math.Float64bits(g) != math.Float64bits(f) {
				t.Errorf("value %d = %#v, want %#v", i, v, values[i])
			}
			continue
		}
		if wb, ok := values[i].([]byte); ok {
			if gb, ok := v.([]byte); !ok || string(gb) != string(wb) {
				t.Errorf("value %d = %#v, want %#v", i, v, values[i])
			}
			continue
		}
		if v != values[i] {
			t.Errorf("value %d = %#v, want %#v", i, v, values[i])
		}
	}
}

package db

import "fmt"

// Kind is the type of a value rdb binds or returns, as it travels in log
// entries and inter-node RPCs: msgpack alone would blur int64 and float64,
// and string and []byte. The numbers are part of both encodings: append
// new kinds, never renumber.
type Kind uint8

const (
	KindNull Kind = iota
	KindInt
	KindFloat
	KindText
	KindBlob
	KindBool
)

// Tagged is a value split into its Kind and payload: an int64 in I, a
// bool in I as 0 or 1, a float64 in F, text in S and a blob in B. It is
// the one mapping between db values and their encodings (store's log
// entries, cluster's RPC frames), which lay the fields out as they need.
type Tagged struct {
	Kind Kind
	I    int64
	F    float64
	S    string
	B    []byte
}

// Tag splits v, one of the types a Parameter or a Result value holds.
func Tag(v any) (Tagged, error) {
	switch x := v.(type) {
	case nil:
		return Tagged{Kind: KindNull}, nil
	case int64:
		return Tagged{Kind: KindInt, I: x}, nil
	case float64:
		return Tagged{Kind: KindFloat, F: x}, nil
	case string:
		return Tagged{Kind: KindText, S: x}, nil
	case []byte:
		return Tagged{Kind: KindBlob, B: x}, nil
	case bool:
		t := Tagged{Kind: KindBool}
		if x {
			t.I = 1
		}
		return t, nil
	}
	return Tagged{}, fmt.Errorf("value of type %T: %w", v, ErrUnsupportedType)
}

// Value joins t back into a value. An empty blob stays a blob (a nil B
// would bind as NULL).
func (t Tagged) Value() (any, error) {
	switch t.Kind {
	case KindNull:
		return nil, nil
	case KindInt:
		return t.I, nil
	case KindFloat:
		return t.F, nil
	case KindText:
		return t.S, nil
	case KindBlob:
		if t.B == nil {
			return []byte{}, nil
		}
		return t.B, nil
	case KindBool:
		return t.I != 0, nil
	}
	return nil, fmt.Errorf("value kind %d: %w", t.Kind, ErrUnsupportedType)
}

package db

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

func TestTag_RoundTrip(t *testing.T) {
	for _, v := range []any{nil, int64(-7), math.Copysign(0, -1), 1.5, "text", []byte{0, 1}, []byte{}, true, false} {
		tg, err := Tag(v)
		if err != nil {
			t.Fatalf("Tag(%#v): %v", v, err)
		}
		got, err := tg.Value()
		if err != nil || !reflect.DeepEqual(got, v) {
			t.Errorf("Tag(%#v).Value() = %#v, %v", v, got, err)
		}
	}
	if got, _ := (Tagged{Kind: KindBlob}).Value(); !reflect.DeepEqual(got, []byte{}) {
		t.Errorf("a blob without bytes reads as %#v, want an empty blob", got)
	}
	if _, err := Tag(int32(1)); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("Tag(int32) = %v, want ErrUnsupportedType", err)
	}
	if _, err := (Tagged{Kind: 99}).Value(); !errors.Is(err, ErrUnsupportedType) {
		t.Errorf("unknown kind = %v, want ErrUnsupportedType", err)
	}
}

package store

import (
	"encoding/binary"
	"errors"
	"math"
)

// The hand-written codec below encodes and decodes the common log entries
// (requests and checksum markers: no Load, Chunk or Tx) without
// go-msgpack's reflection, which cost more CPU than anything else on the
// write path. It is an optimisation only: the bytes it writes are exactly
// those go-msgpack writes for the same command (MsgpackHandle with
// WriteExt, struct as a map of its non-empty fields sorted by key), and
// it decodes only the shapes that encoder produces. Anything else goes to
// go-msgpack, so results and errors stay go-msgpack's. cmdcodec_test.go
// pins both directions against go-msgpack.

// errNotFast means the hand-written codec does not handle an entry's
// shape (or its bytes): the caller uses go-msgpack instead.
var errNotFast = errors.New("command not handled by the fast codec")

// msgpack type bytes the codec writes or reads.
const (
	mpFalse   = 0xc2
	mpTrue    = 0xc3
	mpBin8    = 0xc4
	mpBin16   = 0xc5
	mpBin32   = 0xc6
	mpUint8   = 0xcc
	mpInt8    = 0xd0
	mpInt16   = 0xd1
	mpInt32   = 0xd2
	mpInt64   = 0xd3
	mpStr8    = 0xd9
	mpStr16   = 0xda
	mpStr32   = 0xdb
	mpArray16 = 0xdc
	mpArray32 = 0xdd
	mpMap16   = 0xde
	mpMap32   = 0xdf
)

// fastEncodable reports whether encodeCommandFast handles c.
func fastEncodable(c *command) bool {
	return c.Chunk == nil && c.Tx == nil && len(c.Load) == 0
}

// encodeCommandFast returns the log entry for c, exactly as go-msgpack
// would write it, in one allocation of the exact size; errNotFast if c
// has a shape it does not handle.
func encodeCommandFast(c *command) ([]byte, error) {
	if !fastEncodable(c) {
		return nil, errNotFast
	}
	out := make([]byte, 0, 1+sizeCommand(c))
	out = append(out, commandVersion)
	return appendCommand(out, c), nil
}

// Each struct is a map of its non-empty fields (all but t, n and q are
// omitempty) in the order of their keys, as go-msgpack sorts them:
// command ck n r t; commandRequest m np nr nt o rw s ti x;
// commandStatement p q; commandParam b k n s v. The size functions
// mirror the append functions field by field.

func sizeCommand(c *command) int {
	n := 1 + 2 + sizeInt(c.Time) + 2 + sizeUint8(uint8(c.Type))
	if c.Checksum {
		n += 3 + 1
	}
	if len(c.Requests) > 0 {
		n += 2 + sizeArrayLen(len(c.Requests))
		for i := range c.Requests {
			n += sizeRequest(&c.Requests[i])
		}
	}
	return n
}

func appendCommand(b []byte, c *command) []byte {
	fields := 2
	if c.Checksum {
		fields++
	}
	if len(c.Requests) > 0 {
		fields++
	}
	b = append(b, 0x80|byte(fields))
	if c.Checksum {
		b = append(b, 0xa2, 'c', 'k', mpTrue)
	}
	b = append(b, 0xa1, 'n')
	b = appendInt(b, c.Time)
	if len(c.Requests) > 0 {
		b = append(b, 0xa1, 'r')
		b = appendArrayLen(b, len(c.Requests))
		for i := range c.Requests {
			b = appendRequest(b, &c.Requests[i])
		}
	}
	b = append(b, 0xa1, 't')
	return appendUint8(b, uint8(c.Type))
}

func sizeRequest(r *commandRequest) int {
	n := 1
	if r.Mode != 0 {
		n += 2 + sizeUint8(uint8(r.Mode))
	}
	n += 4 * (b2i(r.NoParse) + b2i(r.NoRandom) + b2i(r.NoTime))
	if r.Timeout != 0 {
		n += 2 + sizeInt(r.Timeout)
	}
	n += 4 * b2i(r.Raw)
	if len(r.Statements) > 0 {
		n += 2 + sizeArrayLen(len(r.Statements))
		for i := range r.Statements {
			n += sizeStatement(&r.Statements[i])
		}
	}
	return n + 4*b2i(r.Timings) + 3*b2i(r.Transaction)
}

func appendRequest(b []byte, r *commandRequest) []byte {
	fields := b2i(r.Mode != 0) + b2i(r.NoParse) + b2i(r.NoRandom) + b2i(r.NoTime) +
		b2i(r.Timeout != 0) + b2i(r.Raw) + b2i(len(r.Statements) > 0) + b2i(r.Timings) + b2i(r.Transaction)
	b = append(b, 0x80|byte(fields))
	if r.Mode != 0 {
		b = append(b, 0xa1, 'm')
		b = appendUint8(b, uint8(r.Mode))
	}
	if r.NoParse {
		b = append(b, 0xa2, 'n', 'p', mpTrue)
	}
	if r.NoRandom {
		b = append(b, 0xa2, 'n', 'r', mpTrue)
	}
	if r.NoTime {
		b = append(b, 0xa2, 'n', 't', mpTrue)
	}
	if r.Timeout != 0 {
		b = append(b, 0xa1, 'o')
		b = appendInt(b, r.Timeout)
	}
	if r.Raw {
		b = append(b, 0xa2, 'r', 'w', mpTrue)
	}
	if len(r.Statements) > 0 {
		b = append(b, 0xa1, 's')
		b = appendArrayLen(b, len(r.Statements))
		for i := range r.Statements {
			b = appendStatement(b, &r.Statements[i])
		}
	}
	if r.Timings {
		b = append(b, 0xa2, 't', 'i', mpTrue)
	}
	if r.Transaction {
		b = append(b, 0xa1, 'x', mpTrue)
	}
	return b
}

func sizeStatement(s *commandStatement) int {
	n := 1 + 2 + sizeStr(len(s.SQL))
	if len(s.Params) > 0 {
		n += 2 + sizeArrayLen(len(s.Params))
		for i := range s.Params {
			n += sizeParam(&s.Params[i])
		}
	}
	return n
}

func appendStatement(b []byte, s *commandStatement) []byte {
	if len(s.Params) == 0 {
		b = append(b, 0x81, 0xa1, 'q')
		return appendStr(b, s.SQL)
	}
	b = append(b, 0x82, 0xa1, 'p')
	b = appendArrayLen(b, len(s.Params))
	for i := range s.Params {
		b = appendParam(b, &s.Params[i])
	}
	b = append(b, 0xa1, 'q')
	return appendStr(b, s.SQL)
}

func sizeParam(p *commandParam) int {
	n := 1
	if len(p.Blob) > 0 {
		n += 2 + sizeBin(len(p.Blob))
	}
	if p.Kind != 0 {
		n += 2 + sizeUint8(uint8(p.Kind))
	}
	if p.Name != "" {
		n += 2 + sizeStr(len(p.Name))
	}
	if p.Text != "" {
		n += 2 + sizeStr(len(p.Text))
	}
	if p.Num != 0 {
		n += 2 + sizeInt(p.Num)
	}
	return n
}

func appendParam(b []byte, p *commandParam) []byte {
	fields := b2i(len(p.Blob) > 0) + b2i(p.Kind != 0) + b2i(p.Name != "") + b2i(p.Text != "") + b2i(p.Num != 0)
	b = append(b, 0x80|byte(fields))
	if len(p.Blob) > 0 {
		b = append(b, 0xa1, 'b')
		b = appendBin(b, p.Blob)
	}
	if p.Kind != 0 {
		b = append(b, 0xa1, 'k')
		b = appendUint8(b, uint8(p.Kind))
	}
	if p.Name != "" {
		b = append(b, 0xa1, 'n')
		b = appendStr(b, p.Name)
	}
	if p.Text != "" {
		b = append(b, 0xa1, 's')
		b = appendStr(b, p.Text)
	}
	if p.Num != 0 {
		b = append(b, 0xa1, 'v')
		b = appendInt(b, p.Num)
	}
	return b
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

// appendInt writes a signed integer as go-msgpack does: fixint for
// -32..127, else the smallest signed form that holds it, except that
// positive values skip int8 and start at int16.
func appendInt(b []byte, i int64) []byte {
	switch {
	case i > math.MaxInt8:
		switch {
		case i <= math.MaxInt16:
			return binary.BigEndian.AppendUint16(append(b, mpInt16), uint16(i))
		case i <= math.MaxInt32:
			return binary.BigEndian.AppendUint32(append(b, mpInt32), uint32(i))
		}
		return binary.BigEndian.AppendUint64(append(b, mpInt64), uint64(i))
	case i >= -32:
		return append(b, byte(i))
	case i >= math.MinInt8:
		return append(b, mpInt8, byte(i))
	case i >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, mpInt16), uint16(i))
	case i >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, mpInt32), uint32(i))
	}
	return binary.BigEndian.AppendUint64(append(b, mpInt64), uint64(i))
}

func sizeInt(i int64) int {
	switch {
	case i > math.MaxInt8:
		switch {
		case i <= math.MaxInt16:
			return 3
		case i <= math.MaxInt32:
			return 5
		}
		return 9
	case i >= -32:
		return 1
	case i >= math.MinInt8:
		return 2
	case i >= math.MinInt16:
		return 3
	case i >= math.MinInt32:
		return 5
	}
	return 9
}

// appendUint8 writes a uint8 (commandType, db.Mode, db.Kind) as
// go-msgpack writes any unsigned integer of that size: a positive fixint
// up to 127, else uint8.
func appendUint8(b []byte, u uint8) []byte {
	if u <= math.MaxInt8 {
		return append(b, u)
	}
	return append(b, mpUint8, u)
}

func sizeUint8(u uint8) int {
	if u <= math.MaxInt8 {
		return 1
	}
	return 2
}

// appendStr writes a string with msgpack's str family (WriteExt: str8
// exists).
func appendStr(b []byte, s string) []byte {
	b = appendLen(b, len(s), 32, 0xa0, mpStr8, mpStr16, mpStr32)
	return append(b, s...)
}

func sizeStr(n int) int { return sizeLen(n, 32, true) + n }

// appendBin writes a []byte with the bin family (WriteExt).
func appendBin(b []byte, v []byte) []byte {
	b = appendLen(b, len(v), 0, 0, mpBin8, mpBin16, mpBin32)
	return append(b, v...)
}

func sizeBin(n int) int { return sizeLen(n, 0, true) + n }

func appendArrayLen(b []byte, n int) []byte {
	return appendLen(b, n, 16, 0x90, 0, mpArray16, mpArray32)
}

func sizeArrayLen(n int) int { return sizeLen(n, 16, false) }

// appendLen writes a container header the way go-msgpack picks it: the
// fix form below fixCut, then the 8-bit form if the family has one
// (b8 != 0), then 16 and 32 bits.
func appendLen(b []byte, n, fixCut int, fix, b8, b16, b32 byte) []byte {
	switch {
	case n < fixCut:
		return append(b, fix|byte(n))
	case b8 != 0 && n < 256:
		return append(b, b8, byte(n))
	case n < 65536:
		return binary.BigEndian.AppendUint16(append(b, b16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, b32), uint32(n))
}

func sizeLen(n, fixCut int, has8 bool) int {
	switch {
	case n < fixCut:
		return 1
	case has8 && n < 256:
		return 2
	case n < 65536:
		return 3
	}
	return 5
}

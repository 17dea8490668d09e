package store

import (
	"encoding/binary"

	"github.com/rdb/rdb/db"
)

// decodeCommandFast parses p (a log entry after its version byte) when it
// has exactly a shape encodeCommandFast writes; on anything else (unknown
// or repeated key, a type byte that encoder does not use there, a Load,
// Chunk or Tx key, nil, empty arrays, truncation, trailing bytes) it
// returns errNotFast and the caller asks go-msgpack, so every result
// and every error is go-msgpack's.
func decodeCommandFast(p []byte) (*command, error) {
	r := cmdReader{b: p}
	c := new(command)
	if !r.command(c) || r.i != len(r.b) {
		return nil, errNotFast
	}
	return c, nil
}

// cmdReader reads msgpack from b at i. Every method returns false at the
// first byte it does not expect, and never reads past b.
type cmdReader struct {
	b []byte
	i int
	// slab is where params takes its slices from: one allocation for
	// the parameters of many statements.
	slab     []commandParam
	slabSize int // of the last slab allocated
	// lastSQL is the previous statement's SQL: a bulk request repeats
	// one statement, which then costs a compare instead of a string.
	lastSQL string
	// win is a copy of b[winStart:], up to strWindow bytes, that
	// paramStr takes substrings of.
	win      string
	winStart int
}

// Map keys as read by key: one or two ASCII bytes.
const (
	keyB  = 'b'
	keyCk = 'c'<<8 | 'k'
	keyK  = 'k'
	keyM  = 'm'
	keyN  = 'n'
	keyNp = 'n'<<8 | 'p'
	keyNr = 'n'<<8 | 'r'
	keyNt = 'n'<<8 | 't'
	keyO  = 'o'
	keyP  = 'p'
	keyQ  = 'q'
	keyR  = 'r'
	keyRw = 'r'<<8 | 'w'
	keyS  = 's'
	keyT  = 't'
	keyTi = 't'<<8 | 'i'
	keyV  = 'v'
	keyX  = 'x'
)

func (r *cmdReader) command(c *command) bool {
	n, ok := r.mapLen()
	var seen fieldSet
	for ; ok && n > 0; n-- {
		var k uint16
		if k, ok = r.key(); !ok {
			return false
		}
		switch k {
		case keyCk:
			ok = seen.add(0) && r.boolean(&c.Checksum)
		case keyN:
			ok = seen.add(1) && r.int64(&c.Time)
		case keyR:
			ok = seen.add(2) && r.requests(&c.Requests)
		case keyT:
			var t uint8
			ok = seen.add(3) && r.uint8(&t)
			c.Type = commandType(t)
		default:
			return false
		}
	}
	return ok
}

func (r *cmdReader) requests(out *[]commandRequest) bool {
	return readArray(r, out, func(n int) []commandRequest { return make([]commandRequest, n) }, r.request)
}

func (r *cmdReader) request(q *commandRequest) bool {
	n, ok := r.mapLen()
	var seen fieldSet
	for ; ok && n > 0; n-- {
		var k uint16
		if k, ok = r.key(); !ok {
			return false
		}
		switch k {
		case keyM:
			var m uint8
			ok = seen.add(0) && r.uint8(&m)
			q.Mode = db.Mode(m)
		case keyNp:
			ok = seen.add(1) && r.boolean(&q.NoParse)
		case keyNr:
			ok = seen.add(2) && r.boolean(&q.NoRandom)
		case keyNt:
			ok = seen.add(3) && r.boolean(&q.NoTime)
		case keyO:
			ok = seen.add(4) && r.int64(&q.Timeout)
		case keyRw:
			ok = seen.add(5) && r.boolean(&q.Raw)
		case keyS:
			ok = seen.add(6) && r.statements(&q.Statements)
		case keyTi:
			ok = seen.add(7) && r.boolean(&q.Timings)
		case keyX:
			ok = seen.add(8) && r.boolean(&q.Transaction)
		default:
			return false
		}
	}
	return ok
}

func (r *cmdReader) statements(out *[]commandStatement) bool {
	return readArray(r, out, func(n int) []commandStatement { return make([]commandStatement, n) }, r.statement)
}

func (r *cmdReader) statement(s *commandStatement) bool {
	n, ok := r.mapLen()
	var seen fieldSet
	for ; ok && n > 0; n-- {
		var k uint16
		if k, ok = r.key(); !ok {
			return false
		}
		switch k {
		case keyP:
			ok = seen.add(0) && r.params(&s.Params)
		case keyQ:
			ok = seen.add(1) && r.sql(&s.SQL)
		default:
			return false
		}
	}
	return ok
}

func (r *cmdReader) params(out *[]commandParam) bool {
	return readArray(r, out, r.takeParams, r.param)
}

// readArray reads an array into *out: alloc gives its n elements, one
// reads each. (The maps of each type keep their own loops: a closure
// call per field cost 15% of decoding a 1,000-statement entry.)
func readArray[T any](r *cmdReader, out *[]T, alloc func(n int) []T, one func(*T) bool) bool {
	n, ok := r.arrayLen()
	if !ok {
		return false
	}
	xs := alloc(n)
	for i := range xs {
		if !one(&xs[i]) {
			return false
		}
	}
	*out = xs
	return true
}

func (r *cmdReader) param(p *commandParam) bool {
	n, ok := r.mapLen()
	var seen fieldSet
	for ; ok && n > 0; n-- {
		var k uint16
		if k, ok = r.key(); !ok {
			return false
		}
		switch k {
		case keyB:
			ok = seen.add(0) && r.bin(&p.Blob)
		case keyK:
			var kind uint8
			ok = seen.add(1) && r.uint8(&kind)
			p.Kind = db.Kind(kind)
		case keyN:
			ok = seen.add(2) && r.paramStr(&p.Name)
		case keyS:
			ok = seen.add(3) && r.paramStr(&p.Text)
		case keyV:
			ok = seen.add(4) && r.int64(&p.Num)
		default:
			return false
		}
	}
	return ok
}

// takeParams returns n zeroed parameters from the slab. The first slab
// is exactly n (a one-statement entry wastes nothing); later ones double,
// up to maxParamSlab and to the bytes left (each parameter takes at least
// one). The slice's capacity ends at n, so nothing can append into a
// neighbour's parameters.
func (r *cmdReader) takeParams(n int) []commandParam {
	if len(r.slab) < n {
		size := min(2*r.slabSize, maxParamSlab, len(r.b)-r.i)
		r.slabSize = max(size, n)
		r.slab = make([]commandParam, r.slabSize)
	}
	ps := r.slab[:n:n]
	r.slab = r.slab[n:]
	return ps
}

// maxParamSlab bounds one slab allocation (commandParam is 72 bytes):
// below the runtime's large-object size.
const maxParamSlab = 256

// sql reads a statement's SQL, reusing the previous statement's string
// when the bytes are the same.
func (r *cmdReader) sql(out *string) bool {
	v, ok := r.raw(true)
	if string(v) == r.lastSQL {
		*out = r.lastSQL
		return ok
	}
	*out = string(v)
	r.lastSQL = *out
	return ok
}

// fieldSet records the keys a map has had: go-msgpack lets a repeated
// key overwrite (or merge into) the first, which the fast path leaves
// to it.
type fieldSet uint16

func (s *fieldSet) add(bit uint) bool {
	if *s&(1<<bit) != 0 {
		return false
	}
	*s |= 1 << bit
	return true
}

// key reads a map key: a fixstr of one or two bytes.
func (r *cmdReader) key() (uint16, bool) {
	b, i := r.b, r.i
	if i+2 > len(b) {
		return 0, false
	}
	switch b[i] {
	case 0xa1:
		r.i = i + 2
		return uint16(b[i+1]), true
	case 0xa2:
		if i+3 > len(b) || b[i+1] == 0 {
			return 0, false // "\x00n" must not read as "n"
		}
		r.i = i + 3
		return uint16(b[i+1])<<8 | uint16(b[i+2]), true
	}
	return 0, false
}

// mapLen reads a map header (any of the three sizes).
func (r *cmdReader) mapLen() (int, bool) {
	if r.i >= len(r.b) {
		return 0, false
	}
	t := r.b[r.i]
	if t&0xf0 == 0x80 {
		r.i++
		return int(t & 0x0f), true
	}
	n, ok := r.length(t, mpMap16, mpMap32)
	// Every entry takes at least two bytes.
	return n, ok && n <= (len(r.b)-r.i)/2
}

// arrayLen reads a non-empty array header: the encoder omits empty
// slices, so an empty array is not its shape.
func (r *cmdReader) arrayLen() (int, bool) {
	if r.i >= len(r.b) {
		return 0, false
	}
	t := r.b[r.i]
	var n int
	var ok bool
	if t&0xf0 == 0x90 {
		r.i++
		n, ok = int(t&0x0f), true
	} else {
		n, ok = r.length(t, mpArray16, mpArray32)
	}
	// Every element takes at least one byte: this bounds the allocation.
	return n, ok && n > 0 && n <= len(r.b)-r.i
}

// length reads the 16- or 32-bit length after type byte t, which must be
// b16 or b32.
func (r *cmdReader) length(t, b16, b32 byte) (int, bool) {
	b, i := r.b, r.i+1
	switch {
	case t == b16 && i+2 <= len(b):
		r.i = i + 2
		return int(binary.BigEndian.Uint16(b[i:])), true
	case t == b32 && i+4 <= len(b):
		n := binary.BigEndian.Uint32(b[i:])
		if uint64(n) > uint64(len(b)-i-4) {
			return 0, false // also keeps int(n) positive on 32-bit
		}
		r.i = i + 4
		return int(n), true
	}
	return 0, false
}

// raw reads a str (str is true) or bin header and returns its payload.
func (r *cmdReader) raw(str bool) ([]byte, bool) {
	if r.i >= len(r.b) {
		return nil, false
	}
	t := r.b[r.i]
	var n int
	var ok bool
	switch {
	case str && t&0xe0 == 0xa0:
		r.i++
		n, ok = int(t&0x1f), true
	case t == mpStr8 && str, t == mpBin8 && !str:
		if r.i+2 > len(r.b) {
			return nil, false
		}
		n, ok = int(r.b[r.i+1]), true
		r.i += 2
	case str:
		n, ok = r.length(t, mpStr16, mpStr32)
	default:
		n, ok = r.length(t, mpBin16, mpBin32)
	}
	if !ok || n > len(r.b)-r.i {
		return nil, false
	}
	v := r.b[r.i : r.i+n]
	r.i += n
	return v, true
}

// paramStr reads a parameter's text or name as a substring of a copy of
// the next strWindow bytes of the entry: one allocation for the strings
// of many parameters instead of one each. Parameter strings are bound
// and dropped once the entry is applied, and a window is small, so
// sharing keeps little alive. SQL does not share: the statement cache
// keeps SQL strings.
func (r *cmdReader) paramStr(out *string) bool {
	v, ok := r.raw(true)
	if !ok {
		return false
	}
	start := r.i - len(v)
	if start < r.winStart || r.i > r.winStart+len(r.win) {
		if len(v) > strWindow/2 {
			*out = string(v)
			return true
		}
		r.winStart = start
		r.win = string(r.b[start:min(len(r.b), start+strWindow)])
	}
	*out = r.win[start-r.winStart : r.i-r.winStart]
	return true
}

// strWindow is the size of paramStr's copies: below the runtime's
// large-object size, so a copy is an ordinary small allocation.
const strWindow = 16 << 10

// bin reads a non-empty bin into a copy (go-msgpack copies too; the
// entry's buffer belongs to raft).
func (r *cmdReader) bin(out *[]byte) bool {
	v, ok := r.raw(false)
	if !ok || len(v) == 0 {
		return false
	}
	*out = append([]byte(nil), v...)
	return true
}

func (r *cmdReader) boolean(out *bool) bool {
	if r.i >= len(r.b) {
		return false
	}
	switch r.b[r.i] {
	case mpTrue:
		*out = true
	case mpFalse:
		*out = false
	default:
		return false
	}
	r.i++
	return true
}

// uint8 reads what appendUint writes for a uint8: a positive fixint or
// uint8.
func (r *cmdReader) uint8(out *uint8) bool {
	if r.i >= len(r.b) {
		return false
	}
	t := r.b[r.i]
	switch {
	case t <= 0x7f:
		*out = t
		r.i++
		return true
	case t == mpUint8 && r.i+2 <= len(r.b):
		*out = r.b[r.i+1]
		r.i += 2
		return true
	}
	return false
}

// int64 reads what appendInt writes: a fixint or a signed integer.
func (r *cmdReader) int64(out *int64) bool {
	b, i := r.b, r.i
	if i >= len(b) {
		return false
	}
	t := b[i]
	switch {
	case t <= 0x7f || t >= 0xe0:
		*out = int64(int8(t))
		r.i = i + 1
		return true
	case t == mpInt8 && i+2 <= len(b):
		*out = int64(int8(b[i+1]))
		r.i = i + 2
		return true
	case t == mpInt16 && i+3 <= len(b):
		*out = int64(int16(binary.BigEndian.Uint16(b[i+1:])))
		r.i = i + 3
		return true
	case t == mpInt32 && i+5 <= len(b):
		*out = int64(int32(binary.BigEndian.Uint32(b[i+1:])))
		r.i = i + 5
		return true
	case t == mpInt64 && i+9 <= len(b):
		*out = int64(binary.BigEndian.Uint64(b[i+1:]))
		r.i = i + 9
		return true
	}
	return false
}

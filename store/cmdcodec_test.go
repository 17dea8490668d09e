package store

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/rdb/rdb/db"
)

// edgeInts cross every boundary between msgpack integer forms.
var edgeInts = []int64{
	0, 1, -1, 31, 32, 127, 128, 255, 256, math.MaxInt16, math.MaxInt16 + 1, math.MaxUint16,
	math.MaxUint16 + 1, math.MaxInt32, math.MaxInt32 + 1, math.MaxUint32, math.MaxUint32 + 1,
	math.MaxInt64, -31, -32, -33, -127, -128, -129, math.MinInt16, math.MinInt16 - 1,
	math.MinInt32, math.MinInt32 - 1, math.MinInt64, math.MinInt64 + 1,
	int64(math.Float64bits(1.5)), int64(math.Float64bits(math.Copysign(0, -1))),
	int64(math.Float64bits(math.NaN())), int64(math.Float64bits(math.Inf(-1))),
}

// edgeLens cross every boundary between msgpack str, bin and array forms.
var edgeLens = []int{0, 1, 15, 16, 31, 32, 255, 256, 65535, 65536, 70000}

// edgeUint8s cross the fixint/uint8 boundary of commandType, db.Mode and db.Kind.
var edgeUint8s = []uint8{0, 1, 2, 3, 4, 5, 6, 7, 126, 127, 128, 200, 255}

type cmdGen struct{ r *rand.Rand }

func (g cmdGen) int64() int64 {
	switch g.r.IntN(3) {
	case 0:
		return edgeInts[g.r.IntN(len(edgeInts))]
	case 1:
		return g.r.Int64() >> g.r.IntN(64) * int64(1-2*g.r.IntN(2))
	}
	return int64(g.r.IntN(300)) - 150
}

func (g cmdGen) uint8() uint8 {
	if g.r.IntN(2) == 0 {
		return edgeUint8s[g.r.IntN(len(edgeUint8s))]
	}
	return uint8(g.r.IntN(6))
}

// length is mostly short, sometimes at a form boundary.
func (g cmdGen) length() int {
	if g.r.IntN(40) == 0 {
		return edgeLens[g.r.IntN(len(edgeLens))]
	}
	return g.r.IntN(40)
}

// textRunes has one-, two- and three-byte runes.
var textRunes = []rune("aZ0 \x00'?ü€")

// text is a string of exactly length() bytes.
func (g cmdGen) text() string {
	n := g.length()
	var sb strings.Builder
	for sb.Len() < n {
		if n-sb.Len() >= 3 {
			sb.WriteRune(textRunes[g.r.IntN(len(textRunes))])
		} else {
			sb.WriteByte('x')
		}
	}
	return sb.String()
}

func (g cmdGen) blob() []byte {
	switch g.r.IntN(5) {
	case 0:
		return nil
	case 1:
		return []byte{}
	}
	b := make([]byte, g.length())
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	return b
}

func (g cmdGen) bool() bool { return g.r.IntN(2) == 0 }

func (g cmdGen) param() commandParam {
	p := commandParam{Kind: db.Kind(g.uint8())}
	if g.r.IntN(4) == 0 {
		p.Name = g.text()
	}
	if g.bool() {
		p.Num = g.int64()
	}
	if g.r.IntN(3) == 0 {
		p.Text = g.text()
	}
	if g.r.IntN(3) == 0 {
		p.Blob = g.blob()
	}
	return p
}

// count is how many elements a slice gets: nil, empty, a few or (rarely)
// enough for a 16-bit array header.
func (g cmdGen) count() int {
	switch g.r.IntN(60) {
	case 0:
		return -1 // nil
	case 1:
		return 16 + g.r.IntN(8)
	}
	return g.r.IntN(5)
}

func (g cmdGen) statement() commandStatement {
	s := commandStatement{SQL: g.text()}
	if n := g.count(); n >= 0 {
		s.Params = make([]commandParam, n)
		for i := range s.Params {
			s.Params[i] = g.param()
		}
	}
	return s
}

func (g cmdGen) request() commandRequest {
	q := commandRequest{
		Mode: db.Mode(g.uint8()), Transaction: g.bool(), NoRandom: g.bool(), NoTime: g.bool(),
		NoParse: g.bool(), Timings: g.bool(), Raw: g.bool(),
	}
	if g.bool() {
		q.Timeout = g.int64()
	}
	if n := g.count(); n >= 0 {
		q.Statements = make([]commandStatement, n)
		for i := range q.Statements {
			q.Statements[i] = g.statement()
		}
	}
	return q
}

func (g cmdGen) command() *command {
	c := &command{Type: commandType(g.uint8()), Time: g.int64(), Checksum: g.r.IntN(4) == 0}
	if g.r.IntN(8) == 0 {
		c.Load = []byte{} // empty: omitted, still the fast shape
	}
	if n := g.count(); n >= 0 {
		c.Requests = make([]commandRequest, n)
		for i := range c.Requests {
			c.Requests[i] = g.request()
		}
	}
	return c
}

// fastCommands are the commands the fast encoder must handle: random
// ones, plus the shapes the store writes and arrays with 16- and 32-bit
// headers.
func fastCommands(t testing.TB, random int) []*command {
	t.Helper()
	g := cmdGen{rand.New(rand.NewPCG(1, 2))}
	cs := []*command{
		{},
		{Type: cmdExecute, Time: 1_700_000_000_000_000_000, Checksum: true},
		benchCommand(t, 1000),
		benchCommand(t, 1),
		{Type: cmdExecute, Requests: []commandRequest{{Statements: make([]commandStatement, 70000)}}},
		{Type: cmdRequest, Requests: make([]commandRequest, 65536)},
	}
	cr, err := newCommandRequest(&db.Request{Statements: []db.Statement{{SQL: "S", Parameters: goldenParams}}}, db.ModeRequest)
	if err != nil {
		t.Fatal(err)
	}
	cs = append(cs, &command{Type: cmdRequest, Time: -1, Requests: []commandRequest{cr, cr}})
	for range random {
		cs = append(cs, g.command())
	}
	return cs
}

// TestCmdCodec_EncodeMatchesMsgpack: the fast encoder takes every
// request-shaped command and writes go-msgpack's bytes exactly, into a
// buffer of exactly their size.
func TestCmdCodec_EncodeMatchesMsgpack(t *testing.T) {
	for i, c := range fastCommands(t, 3000) {
		got, err := encodeCommandFast(c)
		if err != nil {
			t.Fatalf("command %d: fast encoder refused it: %v", i, err)
		}
		want, err := encodeCommandMsgpack(c)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("command %d (%+v): bytes differ at %d:\n got %x\nwant %x", i, c, firstDiff(got, want), head(got), head(want))
		}
		if len(got) != cap(got) {
			t.Errorf("command %d: size computed %d, wrote %d", i, cap(got), len(got))
		}
	}
}

// TestCmdCodec_DecodeMatchesMsgpack: the fast decoder takes everything
// go-msgpack wrote for request-shaped commands and gives go-msgpack's
// result, nil and empty slices included.
func TestCmdCodec_DecodeMatchesMsgpack(t *testing.T) {
	for i, c := range fastCommands(t, 3000) {
		b, err := encodeCommandMsgpack(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeCommandFast(b[1:])
		if err != nil {
			t.Fatalf("command %d: fast decoder refused %x: %v", i, head(b), err)
		}
		want, err := decodeCommandMsgpack(b[1:])
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("command %d: decoded\n got %+v\nwant %+v", i, got, want)
		}
		viaEntry, err := decodeCommand(b)
		if err != nil || !reflect.DeepEqual(viaEntry, want) {
			t.Fatalf("command %d: decodeCommand = %+v, %v; want %+v", i, viaEntry, err, want)
		}
	}
}

// TestCmdCodec_DecodeDoesNotAliasEntry: a decoded command shares no
// memory with the entry's bytes, which belong to raft.
func TestCmdCodec_DecodeDoesNotAliasEntry(t *testing.T) {
	for i, c := range fastCommands(t, 200)[6:] {
		b, err := encodeCommandMsgpack(c)
		if err != nil {
			t.Fatal(err)
		}
		got, err := decodeCommand(b)
		if err != nil {
			t.Fatal(err)
		}
		want, err := decodeCommandMsgpack(bytes.Clone(b[1:]))
		if err != nil {
			t.Fatal(err)
		}
		for j := range b {
			b[j] = 0xc1
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("command %d changed with its entry's bytes:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

// TestCmdCodec_OtherShapesUseMsgpack: entries with a Load, a Chunk or a
// Tx are go-msgpack's in both directions, and still round-trip.
func TestCmdCodec_OtherShapesUseMsgpack(t *testing.T) {
	cr := commandRequest{Statements: []commandStatement{{SQL: "INSERT INTO t VALUES(1)"}}}
	tests := []struct {
		name string
		c    *command
	}{
		{"load", &command{Type: cmdLoad, Time: 5, Load: []byte("SQLite format 3\x00")}},
		{"chunk", &command{Type: cmdLoadChunk, Chunk: &loadChunk{ID: "x", Seq: 3, Data: []byte{1, 2}, Last: true, Sum: []byte{9}}}},
		{"empty chunk", &command{Type: cmdLoadChunk, Chunk: &loadChunk{}}},
		{"tx", &command{Type: cmdTx, Time: 7, Tx: &txCommand{Base: 10, Seed: 11, Requests: []commandRequest{cr}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := encodeCommandFast(tt.c); !errors.Is(err, errNotFast) {
				t.Fatalf("fast encoder error = %v, want errNotFast", err)
			}
			want, err := encodeCommandMsgpack(tt.c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := encodeCommand(tt.c)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("encodeCommand = %x, %v; want %x", got, err, want)
			}
			if _, err := decodeCommandFast(want[1:]); !errors.Is(err, errNotFast) {
				t.Fatalf("fast decoder error = %v, want errNotFast", err)
			}
			dec, err := decodeCommand(want)
			if err != nil || !reflect.DeepEqual(dec, tt.c) {
				t.Fatalf("decodeCommand = %+v, %v; want %+v", dec, err, tt.c)
			}
		})
	}
}

// TestCmdCodec_DecodeLeavesSurprisesToMsgpack: bytes the fast encoder
// would not write are refused by the fast decoder, and decodeCommand
// then answers exactly as go-msgpack does.
func TestCmdCodec_DecodeLeavesSurprisesToMsgpack(t *testing.T) {
	// {n: 1, r: [{s: [{q: "S", p: [{k: 1, v: 2}]}]}], t: 1}
	good := []byte{0x83, 0xa1, 'n', 0x01, 0xa1, 'r', 0x91, 0x81, 0xa1, 's', 0x91,
		0x82, 0xa1, 'p', 0x91, 0x82, 0xa1, 'k', 0x01, 0xa1, 'v', 0x02, 0xa1, 'q', 0xa1, 'S', 0xa1, 't', 0x01}
	// Forms the encoder does not pick but that mean one thing: the fast
	// decoder may take them, with go-msgpack's result.
	accepted := [][]byte{
		good,
		{0x81, 0xa2, 'c', 'k', 0xc2},
		{0xde, 0x00, 0x01, 0xa1, 't', 0x01},
		{0xdf, 0x00, 0x00, 0x00, 0x01, 0xa1, 'r', 0xdc, 0x00, 0x01, 0x80},
	}
	for _, p := range accepted {
		if _, err := decodeCommandFast(p); err != nil {
			t.Fatalf("fast decoder refused %x: %v", p, err)
		}
		checkDecodeAgrees(t, p)
	}
	tests := []struct {
		name string
		p    []byte
	}{
		{"unknown key", []byte{0x82, 0xa1, 'n', 0x01, 0xa1, 'z', 0x01}},
		{"three-byte key", []byte{0x81, 0xa3, 'a', 'b', 'c', 0x01}},
		{"NUL and a key", []byte{0x81, 0xa2, 0x00, 'n', 0x05}},
		{"repeated key", []byte{0x82, 0xa1, 'n', 0x01, 0xa1, 'n', 0x02}},
		{"repeated requests", []byte{0x82, 0xa1, 'r', 0x91, 0x81, 0xa1, 'x', 0xc3, 0xa1, 'r', 0x91, 0x80}},
		{"nil requests", []byte{0x81, 0xa1, 'r', 0xc0}},
		{"empty requests", []byte{0x81, 0xa1, 'r', 0x90}},
		{"nil time", []byte{0x81, 0xa1, 'n', 0xc0}},
		{"unsigned time", []byte{0x81, 0xa1, 'n', 0xcc, 0xff}},
		{"uint64 time", []byte{0x81, 0xa1, 'n', 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"float time", []byte{0x81, 0xa1, 'n', 0xcb, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"negative type", []byte{0x81, 0xa1, 't', 0xff}},
		{"uint16 type", []byte{0x81, 0xa1, 't', 0xcd, 0x01, 0x00}},
		{"string checksum", []byte{0x81, 0xa2, 'c', 'k', 0xa1, 'y'}},
		{"int checksum", []byte{0x81, 0xa2, 'c', 'k', 0x01}},
		{"load key", []byte{0x81, 0xa1, 'l', 0xc4, 0x01, 0x00}},
		{"chunk key", []byte{0x81, 0xa1, 'c', 0x80}},
		{"tx key", []byte{0x81, 0xa1, 'x', 0x80}},
		{"array for struct", []byte{0x92, 0x01, 0x02}},
		{"nil entry", []byte{0xc0}},
		{"bin SQL", []byte{0x81, 0xa1, 'r', 0x91, 0x81, 0xa1, 's', 0x91, 0x81, 0xa1, 'q', 0xc4, 0x01, 'S'}},
		{"str blob", []byte{0x81, 0xa1, 'r', 0x91, 0x81, 0xa1, 's', 0x91, 0x81, 0xa1, 'p', 0x91, 0x81, 0xa1, 'b', 0xa1, 'x'}},
		{"empty blob", []byte{0x81, 0xa1, 'r', 0x91, 0x81, 0xa1, 's', 0x91, 0x81, 0xa1, 'p', 0x91, 0x81, 0xa1, 'b', 0xc4, 0x00}},
		{"huge array", []byte{0x81, 0xa1, 'r', 0xdd, 0xff, 0xff, 0xff, 0xff, 0x80}},
		{"huge string", []byte{0x81, 0xa1, 'r', 0x91, 0x81, 0xa1, 's', 0x91, 0x81, 0xa1, 'q', 0xdb, 0xff, 0xff, 0xff, 0xff}},
		{"trailing byte", append(bytes.Clone(good), 0x00)},
		{"garbage", []byte{0xc1, 0xc1}},
	}
	for n := range len(good) {
		tests = append(tests, struct {
			name string
			p    []byte
		}{fmt.Sprintf("truncated to %d", n), good[:n]})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if c, err := decodeCommandFast(tt.p); !errors.Is(err, errNotFast) {
				t.Fatalf("fast decoder took it: %+v, %v", c, err)
			}
			checkDecodeAgrees(t, tt.p)
		})
	}
}

// checkDecodeAgrees fails if decodeCommand's answer for payload p is
// not go-msgpack's (same value, or an error from both), or if the fast
// decoder accepts p with another result.
func checkDecodeAgrees(t *testing.T, p []byte) {
	t.Helper()
	want, wantErr := decodeCommandMsgpack(p)
	if fast, err := decodeCommandFast(p); err == nil {
		if wantErr != nil || !reflect.DeepEqual(fast, want) {
			t.Fatalf("fast decoder: %+v; go-msgpack: %+v, %v", fast, want, wantErr)
		}
	} else if !errors.Is(err, errNotFast) {
		t.Fatalf("fast decoder error %v, want errNotFast", err)
	}
	got, err := decodeCommand(append([]byte{commandVersion}, p...))
	if (err == nil) != (wantErr == nil) || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeCommand = %+v, %v; go-msgpack %+v, %v", got, err, want, wantErr)
	}
	if err != nil && !errors.Is(err, ErrBadCommand) {
		t.Fatalf("decodeCommand error %v, want ErrBadCommand", err)
	}
}

// FuzzDecodeCommand: for any payload, decodeCommand answers as
// go-msgpack does and nothing panics.
func FuzzDecodeCommand(f *testing.F) {
	for _, c := range fastCommands(f, 40)[6:] {
		b, err := encodeCommandMsgpack(c)
		if err != nil {
			f.Fatal(err)
		}
		if len(b) < 4096 {
			f.Add(b[1:])
		}
	}
	f.Add([]byte{0x81, 0xa1, 'x', 0x80})
	f.Fuzz(func(t *testing.T, p []byte) {
		checkDecodeAgrees(t, p)
	})
}

// benchCommand is a request of n INSERTs with two parameters each, the
// bulk workload's entry.
func benchCommand(t testing.TB, n int) *command {
	t.Helper()
	stmts := make([]db.Statement, n)
	for i := range stmts {
		stmts[i] = db.Statement{SQL: "INSERT INTO bench(id, name) VALUES(?, ?)",
			Parameters: []db.Parameter{{Value: int64(i * 7919)}, {Value: fmt.Sprintf("name-%d", i)}}}
	}
	cr, err := newCommandRequest(&db.Request{Statements: stmts}, db.ModeExecute)
	if err != nil {
		t.Fatal(err)
	}
	return &command{Type: cmdExecute, Time: 1_733_370_000_000_000_000, Requests: []commandRequest{cr}}
}

func BenchmarkEncodeCommand(b *testing.B) {
	for _, n := range []int{1, 1000} {
		c := benchCommand(b, n)
		for _, impl := range []struct {
			name string
			fn   func(*command) ([]byte, error)
		}{{"msgpack", encodeCommandMsgpack}, {"fast", encodeCommand}} {
			b.Run(fmt.Sprintf("stmts=%d/%s", n, impl.name), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := impl.fn(c); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func BenchmarkDecodeCommand(b *testing.B) {
	for _, n := range []int{1, 1000} {
		entry, err := encodeCommandMsgpack(benchCommand(b, n))
		if err != nil {
			b.Fatal(err)
		}
		for _, impl := range []struct {
			name string
			fn   func([]byte) (*command, error)
		}{
			{"msgpack", func(e []byte) (*command, error) { return decodeCommandMsgpack(e[1:]) }},
			{"fast", decodeCommand},
		} {
			b.Run(fmt.Sprintf("stmts=%d/%s", n, impl.name), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(entry)))
				for b.Loop() {
					if _, err := impl.fn(entry); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// head shortens an entry for a failure message.
func head(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

package store

import (
	"bytes"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"

	"github.com/rdb/rdb/db"
)

// commandVersion is the first byte of every log entry the store writes.
// A change that old code cannot read must bump it; adding a map key does
// not (decoders skip unknown keys and zero missing ones).
const commandVersion byte = 1

// commandType says what a log entry asks the FSM to do. Values are stored
// in the log forever: append new ones, never renumber.
type commandType uint8

const (
	// cmdExecute, cmdQuery and cmdRequest carry db requests
	// from Execute, a strong Query and Request; each request says its mode.
	cmdExecute commandType = 1
	cmdQuery   commandType = 2
	cmdRequest commandType = 3
	// cmdLoad replaces the database with the SQLite file in Load.
	cmdLoad commandType = 4
	// cmdLoadChunk carries one piece of a file too large for one entry
	// (loadchunk.go).
	cmdLoadChunk commandType = 5
	// cmdTx carries a committed interactive transaction (tx.go).
	cmdTx commandType = 6
)

// command is the payload of one log entry. It holds a list of requests so
// that group commit can pack concurrent requests into one entry without a
// format change; today there is one per entry.
type command struct {
	Type     commandType      `codec:"t"`
	Time     int64            `codec:"n"` // leader's clock, Unix ns: the entry's 'now'
	Requests []commandRequest `codec:"r,omitempty"`
	Load     []byte           `codec:"l,omitempty"` // cmdLoad: the database file
	Chunk    *loadChunk       `codec:"c,omitempty"` // cmdLoadChunk
	// Checksum marks a cmdExecute without requests as a checksum marker
	// (checksum.go). Older builds skip the key and apply an empty entry.
	Checksum bool       `codec:"ck,omitempty"`
	Tx       *txCommand `codec:"x,omitempty"` // cmdTx
}

// commandRequest is a db.Request plus the mode to run it in.
type commandRequest struct {
	Statements  []commandStatement `codec:"s,omitempty"`
	Mode        db.Mode            `codec:"m,omitempty"`
	Transaction bool               `codec:"x,omitempty"`
	Timeout     int64              `codec:"o,omitempty"` // ns
	NoRandom    bool               `codec:"nr,omitempty"`
	NoTime      bool               `codec:"nt,omitempty"`
	NoParse     bool               `codec:"np,omitempty"`
	Timings     bool               `codec:"ti,omitempty"`
	Raw         bool               `codec:"rw,omitempty"`
}

type commandStatement struct {
	SQL    string         `codec:"q"`
	Params []commandParam `codec:"p,omitempty"`
}

// commandParam is one typed parameter (db.Tagged, laid out for the log).
// Num holds an int64, a float64's IEEE-754 bits (so -0 and NaN payloads
// round-trip) or a bool as 0/1. A new db.Kind needs a commandVersion
// bump: older code would read it as NULL.
type commandParam struct {
	Name string  `codec:"n,omitempty"`
	Kind db.Kind `codec:"k,omitempty"`
	Num  int64   `codec:"v,omitempty"`
	Text string  `codec:"s,omitempty"`
	Blob []byte  `codec:"b,omitempty"`
}

// msgpackHandle is shared: a codec.Handle is safe for concurrent use.
var msgpackHandle = func() *codec.MsgpackHandle {
	h := &codec.MsgpackHandle{WriteExt: true}
	h.RawToString = true
	return h
}()

// encodeCommand returns the log entry bytes for c: the version byte, then
// c in msgpack. The hand-written codec (cmdcodec.go) writes the common
// shapes; go-msgpack the rest, and both write the same bytes.
func encodeCommand(c *command) ([]byte, error) {
	if b, err := encodeCommandFast(c); err == nil {
		return b, nil
	}
	return encodeCommandMsgpack(c)
}

// encodeCommandMsgpack is encodeCommand with go-msgpack only.
func encodeCommandMsgpack(c *command) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(256)
	buf.WriteByte(commandVersion)
	e := encoders.Get().(*codec.Encoder)
	defer encoders.Put(e)
	e.Reset(&buf)
	if err := e.Encode(c); err != nil {
		return nil, fmt.Errorf("encode command: %w", err)
	}
	out := buf.Bytes()
	if cap(out)-len(out) > len(out)/8 {
		// The entry lives on in raft's log cache: do not keep the
		// buffer's growth slack (up to half of it) with it.
		out = bytes.Clone(out)
	}
	return out, nil
}

// encoders and decoders are reused: a msgpack encoder or decoder costs
// several allocations to set up, and every write makes one of each.
var (
	encoders = sync.Pool{New: func() any { return codec.NewEncoder(nil, msgpackHandle) }}
	decoders = sync.Pool{New: func() any { return codec.NewDecoderBytes(nil, msgpackHandle) }}
)

// decodeCommand parses a log entry written by encodeCommand.
func decodeCommand(b []byte) (*command, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("empty entry: %w", ErrBadCommand)
	}
	if b[0] != commandVersion {
		return nil, fmt.Errorf("version %d: %w", b[0], ErrBadCommand)
	}
	if c, err := decodeCommandFast(b[1:]); err == nil {
		return c, nil
	}
	return decodeCommandMsgpack(b[1:])
}

// decodeCommandMsgpack parses p, an entry after its version byte, with
// go-msgpack only.
func decodeCommandMsgpack(p []byte) (*command, error) {
	var c command
	d := decoders.Get().(*codec.Decoder)
	defer decoders.Put(d)
	d.ResetBytes(p)
	if err := d.Decode(&c); err != nil {
		return nil, fmt.Errorf("decode: %w: %w", ErrBadCommand, err)
	}
	return &c, nil
}

// newCommandRequest converts r for the log.
func newCommandRequest(r *db.Request, mode db.Mode) (commandRequest, error) {
	cr := commandRequest{
		Statements:  make([]commandStatement, len(r.Statements)),
		Mode:        mode,
		Transaction: r.Transaction,
		Timeout:     int64(r.Timeout),
		NoRandom:    r.NoRandom,
		NoTime:      r.NoTime,
		NoParse:     r.NoParse,
		Timings:     r.Timings,
		Raw:         r.Raw,
	}
	for i, s := range r.Statements {
		cs := commandStatement{SQL: s.SQL}
		if len(s.Parameters) > 0 {
			cs.Params = make([]commandParam, len(s.Parameters))
		}
		for j, p := range s.Parameters {
			cp, err := newCommandParam(p)
			if err != nil {
				return commandRequest{}, fmt.Errorf("statement %d parameter %d: %w", i, j, err)
			}
			cs.Params[j] = cp
		}
		cr.Statements[i] = cs
	}
	return cr, nil
}

func newCommandParam(p db.Parameter) (commandParam, error) {
	t, err := db.Tag(p.Value)
	if err != nil {
		return commandParam{}, err
	}
	cp := commandParam{Name: p.Name, Kind: t.Kind, Num: t.I, Text: t.S, Blob: t.B}
	if t.Kind == db.KindFloat {
		cp.Num = int64(math.Float64bits(t.F))
	}
	return cp, nil
}

// size estimates cr's encoded size: its SQL and parameter bytes.
func (cr *commandRequest) size() int {
	n := 0
	for i := range cr.Statements {
		st := &cr.Statements[i]
		n += len(st.SQL) + 4
		for j := range st.Params {
			p := &st.Params[j]
			n += len(p.Name) + len(p.Text) + len(p.Blob) + 12
		}
	}
	return n
}

// dbRequest converts cr back for db.Apply.
func (cr *commandRequest) dbRequest() *db.Request {
	r := &db.Request{
		Statements:  make([]db.Statement, len(cr.Statements)),
		Transaction: cr.Transaction,
		Timeout:     time.Duration(cr.Timeout),
		NoRandom:    cr.NoRandom,
		NoTime:      cr.NoTime,
		NoParse:     cr.NoParse,
		Timings:     cr.Timings,
		Raw:         cr.Raw,
	}
	for i, cs := range cr.Statements {
		s := db.Statement{SQL: cs.SQL}
		if len(cs.Params) > 0 {
			s.Parameters = make([]db.Parameter, len(cs.Params))
		}
		for j, cp := range cs.Params {
			s.Parameters[j] = db.Parameter{Name: cp.Name, Value: cp.value()}
		}
		r.Statements[i] = s
	}
	return r
}

func (cp *commandParam) value() any {
	t := db.Tagged{Kind: cp.Kind, I: cp.Num, S: cp.Text, B: cp.Blob}
	if cp.Kind == db.KindFloat {
		t.F = math.Float64frombits(uint64(cp.Num))
	}
	v, err := t.Value()
	if err != nil {
		return nil // an unknown kind reads as NULL, as it always has
	}
	return v
}

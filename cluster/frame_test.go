package cluster

import (
	"bytes"
	"encoding/binary"
	"errors"
	"github.com/rdb/rdb/internal/mux"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"testing"
	"time"
)

func TestFrame_RoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 100, smallFrame, smallFrame + 1, 3 * smallFrame} {
		body := bytes.Repeat([]byte{0xab}, n)
		var buf bytes.Buffer
		if err := writeFrame(&buf, body); err != nil {
			t.Fatalf("write %d: %v", n, err)
		}
		if got, want := buf.Len(), frameHeaderLen+n; got != want {
			t.Fatalf("frame of %d: %d bytes on the wire, want %d", n, got, want)
		}
		got, err := readFrame(&buf)
		if err != nil {
			t.Fatalf("read %d: %v", n, err)
		}
		if !bytes.Equal(got, body) {
			t.Fatalf("frame of %d bytes corrupted", n)
		}
	}
}

func frameHeader(n uint32) []byte {
	var h [frameHeaderLen]byte
	binary.BigEndian.PutUint32(h[:], n)
	return h[:]
}

func TestFrame_Errors(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"clean EOF", nil, io.EOF},
		{"short header", []byte{0, 0}, io.ErrUnexpectedEOF},
		{"over the limit", frameHeader(MaxFrameSize + 1), ErrFrameTooLarge},
		{"largest header", frameHeader(math32), ErrFrameTooLarge},
		{"short small body", append(frameHeader(10), 1, 2, 3), io.ErrUnexpectedEOF},
		{"short large body", append(frameHeader(MaxFrameSize), 1, 2, 3), io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readFrame(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("got %v, want %v", err, tt.wantErr)
			}
		})
	}
}

const math32 = 1<<32 - 1

// TestFrame_BoundedAllocation: a peer announcing a maximal frame and
// sending a few bytes costs what it sent, not what it announced.
func TestFrame_BoundedAllocation(t *testing.T) {
	in := append(frameHeader(MaxFrameSize), make([]byte, 1000)...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := readFrame(bytes.NewReader(in)); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("got %v, want io.ErrUnexpectedEOF", err)
		}
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Errorf("10 truncated maximal frames allocated %d bytes, want < 4 MiB", got)
	}
}

// TestDecode_RandomBytes: undecodable input is an error, never a panic.
func TestDecode_RandomBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	valid, err := encodeMsg(&rpcRequest{Op: opExecute, Store: &wireRequest{Statements: []wireStatement{{SQL: "SELECT 1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		var b []byte
		if i%2 == 0 {
			b = make([]byte, r.IntN(64))
			for j := range b {
				b[j] = byte(r.UintN(256))
			}
		} else { // mutate a valid request: deeper into the decoder
			b = append([]byte(nil), valid...)
			for range 1 + r.IntN(4) {
				b[r.IntN(len(b))] = byte(r.UintN(256))
			}
		}
		var req rpcRequest
		_ = decodeMsg(b, &req) // must not panic
		if req.Store != nil {
			_, _ = req.Store.request()
		}
	}
}

// TestServer_GarbageInput: random bytes and bad frames close the
// connection; the server keeps serving others.
func TestServer_GarbageInput(t *testing.T) {
	m := startMux(t, listen(t), mux.DefaultConfig())
	startServer(t, m, &fakeHandler{})
	client := newTestClient(t)
	addr := m.Addr().String()
	r := rand.New(rand.NewPCG(3, 4))

	inputs := [][]byte{
		frameHeader(MaxFrameSize + 1),
		append(frameHeader(5), 0xc1, 0xc1, 0xc1, 0xc1, 0xc1), // 0xc1 is never valid msgpack
		append(frameHeader(3), 0x93, 0x01, 0x02),             // an array, not a request map
	}
	for range 20 {
		body := make([]byte, 1+r.IntN(200))
		for j := range body {
			body[j] = byte(r.UintN(256))
		}
		inputs = append(inputs, append(frameHeader(uint32(len(body))), body...))
	}
	for i, in := range inputs {
		c, err := mux.Dialer{Header: mux.HeaderRPC}.Dial(addr, time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if _, err := c.Write(in); err != nil {
			t.Fatalf("write: %v", err)
		}
		// Either an error response or a closed connection; never a hang.
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = readFrame(c)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("input %d: connection neither answered nor closed", i)
		}
		c.Close()
	}
	if _, err := client.Meta(t.Context(), addr); err != nil {
		t.Fatalf("server stopped serving after garbage: %v", err)
	}
}

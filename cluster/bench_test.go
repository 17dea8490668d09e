package cluster

import (
	"context"
	"net"
	"testing"

	"github.com/rdb/rdb/db"
	"github.com/rdb/rdb/internal/mux"
	"github.com/rdb/rdb/store"
)

// BenchmarkClient_Execute is one forwarded execute over loopback: encode,
// mux, server, handler, response, decode.
func BenchmarkClient_Execute(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	m, err := mux.New(ln, mux.DefaultConfig(), nil)
	if err != nil {
		b.Fatal(err)
	}
	go m.Serve()
	defer m.Close()
	s := NewServer(m.Listener(mux.HeaderRPC), &fakeHandler{storeFn: func(context.Context, op, *store.Request) (store.Response, error) {
		return store.Response{Results: []db.Result{{LastInsertID: 1, RowsAffected: 1}}, RaftIndex: 1}, nil
	}}, nil)
	go s.Serve()
	defer s.Close()
	c, err := NewClient(DefaultClientConfig())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	req := &store.Request{Request: db.Request{Statements: []db.Statement{
		{SQL: "INSERT INTO foo(name, age) VALUES(?, ?)", Parameters: []db.Parameter{{Value: "fiona"}, {Value: int64(20)}}},
	}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Execute(ctx, ln.Addr().String(), req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWire_QueryResponse encodes and decodes a 1000-row, 3-column
// result.
func BenchmarkWire_QueryResponse(b *testing.B) {
	rows := make([][]any, 1000)
	for i := range rows {
		rows[i] = []any{int64(i), "some text value", 3.25}
	}
	resp := store.Response{Results: []db.Result{{Rows: true, Columns: []string{"id", "name", "score"},
		Types: []string{"integer", "text", "real"}, Values: rows}}}
	b.ReportAllocs()
	for b.Loop() {
		w, err := toWireResponse(resp)
		if err != nil {
			b.Fatal(err)
		}
		buf, err := encodeMsg(w)
		if err != nil {
			b.Fatal(err)
		}
		var got wireResponse
		if err := decodeMsg(buf, &got); err != nil {
			b.Fatal(err)
		}
		if _, err := got.response(); err != nil {
			b.Fatal(err)
		}
	}
}

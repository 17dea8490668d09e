package client_test

import (
	"encoding/json"
	"testing"

	"github.com/rdb/rdb/client"
)

// realNode skips under -short, where nodeAddr is only the Example's fake.
func realNode(t *testing.T) *client.Client {
	t.Helper()
	if testing.Short() {
		t.Skip("needs a real rdb node")
	}
	return newClient(t, client.Config{Addrs: []string{nodeAddr}})
}

func TestClient_RealNode_Statements(t *testing.T) {
	c := realNode(t)
	resp, err := c.Execute(ctx, []client.Statement{
		client.SQL("DROP TABLE IF EXISTS typed"),
		client.SQL("CREATE TABLE typed (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)"),
		client.SQL("INSERT INTO typed VALUES(?, ?, ?, ?, ?)", int64(9007199254740993), 1.5, "日本", []byte{0xde, 0xad}, nil),
	}, nil)
	if err != nil || resp.Err() != nil {
		t.Fatalf("Execute: %v, %v", err, resp.Err())
	}
	if got := resp.Results[2]; got.RowsAffected != 1 || got.HasRows() {
		t.Errorf("insert result %+v", got)
	}
	tests := []struct {
		name string
		do   func() (*client.Response, error)
		want []any
	}{
		{"query weak", func() (*client.Response, error) {
			return c.Query(ctx, []client.Statement{client.SQL("SELECT * FROM typed")}, nil)
		}, []any{json.Number("9007199254740993"), json.Number("1.5"), "日本", "3q0=", nil}},
		{"query strong blob array", func() (*client.Response, error) {
			return c.Query(ctx, []client.Statement{client.SQL("SELECT b FROM typed")},
				&client.Options{Level: client.LevelStrong, BlobArray: true})
		}, []any{[]any{json.Number("222"), json.Number("173")}}},
		{"request read", func() (*client.Response, error) {
			return c.Request(ctx, []client.Statement{client.SQL("SELECT s FROM typed WHERE i > ?", 0)}, nil)
		}, []any{"日本"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := tt.do()
			if err != nil || resp.Err() != nil || len(resp.Results) != 1 || len(resp.Results[0].Values) != 1 {
				t.Fatalf("got %+v, %v", resp, err)
			}
			got, _ := json.Marshal(resp.Results[0].Values[0])
			want, _ := json.Marshal(tt.want)
			if string(got) != string(want) {
				t.Errorf("row %s, want %s", got, want)
			}
		})
	}
	t.Run("statement error is a value", func(t *testing.T) {
		resp, err := c.Query(ctx, []client.Statement{client.SQL("SELECT * FROM nosuch")}, nil)
		if err != nil || resp.Err() == nil || resp.Results[0].Error != "no such table: nosuch" {
			t.Errorf("got %+v, %v", resp, err)
		}
	})
}

func TestClient_RealNode_Cluster(t *testing.T) {
	c := realNode(t)
	if v, err := c.Version(ctx); err != nil || v == "" {
		t.Errorf("Version = %q, %v", v, err)
	}
	if ok, text, err := c.Ready(ctx); !ok || err != nil {
		t.Errorf("Ready = %v, %q, %v", ok, text, err)
	}
	nodes, err := c.Nodes(ctx, true)
	if err != nil || len(nodes) != 1 || !nodes[0].Leader || nodes[0].APIAddr != "http://"+nodeAddr {
		t.Errorf("Nodes = %+v, %v", nodes, err)
	}
	st, err := c.Status(ctx, "store")
	if err != nil || st["ready"] != true {
		t.Errorf("Status(store) = %v, %v", st, err)
	}
	ev, err := c.Expvar(ctx, "cmdline")
	if _, ok := ev["cmdline"]; err != nil || !ok {
		t.Errorf("Expvar(cmdline) = %v, %v", ev, err)
	}
}

package client_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/rdb/rdb/client"
)

func TestClient_RealNode_Tx(t *testing.T) {
	c := realNode(t)
	if _, err := c.Execute(ctx, []client.Statement{client.SQL("DROP TABLE IF EXISTS txt"), client.SQL("CREATE TABLE txt (id INTEGER PRIMARY KEY, v TEXT UNIQUE, b BLOB)")}, nil); err != nil {
		t.Fatal(err)
	}
	count := func() string {
		resp, err := c.Query(ctx, []client.Statement{client.SQL("SELECT COUNT(*) FROM txt")}, &client.Options{Level: client.LevelStrong})
		if err != nil || resp.Err() != nil {
			t.Fatalf("count: %v %v", err, resp.Err())
		}
		return string(resp.Results[0].Values[0][0].(json.Number))
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	res, err := tx.Execute(ctx,
		client.SQL("INSERT INTO txt (v, b) VALUES (?, ?)", "a", []byte{1, 2}),
		client.Statement{SQL: "INSERT INTO txt (v) VALUES (:v)", Named: map[string]any{"v": "a"}},
		client.SQL("SELECT id, v, b FROM txt"))
	if err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if res[0].LastInsertID != 1 || res[0].RowsAffected != 1 || res[1].Error == "" {
		t.Fatalf("results %+v", res)
	}
	if got, _ := json.Marshal(res[2].Values); string(got) != `[[1,"a","AQI="]]` || res[2].Columns[1] != "v" || res[2].Types[1] != "text" {
		t.Fatalf("own write read back as %s %+v", got, res[2])
	}
	if n := count(); n != "0" {
		t.Fatalf("uncommitted row visible: %s", n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("Commit: %v", err)
	}
	if n := count(); n != "1" {
		t.Fatalf("after commit: %s rows", n)
	}
	if _, err := tx.Execute(ctx, client.SQL("SELECT 1")); !errors.Is(err, client.ErrTxDone) {
		t.Fatalf("Execute after Commit: %v", err)
	}
	tx, err = c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Execute(ctx, client.SQL("DELETE FROM txt")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatalf("Rollback: %v", err)
	}
	if n := count(); n != "1" {
		t.Fatalf("after rollback: %s rows", n)
	}
}

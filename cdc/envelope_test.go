package cdc

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/rdb/rdb/db"
)

var fooCols = []string{"id", "name", "pic", "x"}

// goldenEntries are the changes the golden envelope was written from
// (OPS.md §3.2's example, completed).
func goldenEntries() []db.EntryChanges {
	before := []any{int64(7), "fiona", []byte{1, 2, 3}, nil}
	after := []any{int64(7), "fi", []byte{1, 2, 3}, 2.5}
	return []db.EntryChanges{
		{Index: 42, CommitTime: time.UnixMilli(1764874523123), Changes: []db.RowChange{
			{Op: db.ChangeInsert, Table: "foo", NewRowID: 7, Columns: fooCols, After: before},
			{Op: db.ChangeUpdate, Table: "foo", OldRowID: 7, NewRowID: 7, Columns: fooCols, Before: before, After: after},
		}},
		{Index: 43, CommitTime: time.UnixMilli(1764874523124), Changes: []db.RowChange{
			{Op: db.ChangeDelete, Table: "foo", OldRowID: 7, Columns: fooCols, Before: after},
		}},
	}
}

func encodeAll(t *testing.T, c *Config, es []db.EntryChanges) [][]byte {
	t.Helper()
	var out [][]byte
	for _, e := range es {
		b, ok, err := c.encodeEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			out = append(out, b)
		}
	}
	return out
}

func TestEnvelope_Golden(t *testing.T) {
	want, err := os.ReadFile("testdata/envelope.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	c := DefaultConfig("http://x")
	got := envelope("s1", "1", encodeAll(t, c, goldenEntries()))
	if !bytes.Equal(got, want) {
		t.Fatalf("envelope\n%s\nwant\n%s", got, want)
	}
	if !json.Valid(got) {
		t.Fatal("not JSON")
	}
}

func TestEnvelope_NoServiceID_RowIDsOnly_Filter(t *testing.T) {
	c, err := Parse([]byte(`{"endpoint":"http://x","row_ids_only":true,"table_filter":"^ba"}`))
	if err != nil {
		t.Fatal(err)
	}
	es := goldenEntries()
	es[0].Changes[1].Table = "bar"
	got := string(envelope("", "n2", encodeAll(t, c, es)))
	want := `{"node_id":"n2","payload":[{"index":42,"commit_timestamp":1764874523123,"events":[{"op":"UPDATE","table":"bar","new_row_id":7,"old_row_id":7}]}]}`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestEnvelope_CaptureError(t *testing.T) {
	c := DefaultConfig("stdout")
	got := encodeAll(t, c, []db.EntryChanges{{Index: 5, CommitTime: time.UnixMilli(1), Changes: []db.RowChange{
		{Op: db.ChangeInsert, Table: "t", NewRowID: 1, Error: "table t has 2 columns, row change has 3 values"}}}})
	want := `{"index":5,"commit_timestamp":1,"events":[{"op":"INSERT","table":"t","new_row_id":1,"error":"table t has 2 columns, row change has 3 values"}]}`
	if len(got) != 1 || string(got[0]) != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

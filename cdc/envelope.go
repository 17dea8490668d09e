package cdc

import (
	"bytes"
	"encoding/json"
	"strconv"

	"github.com/rdb/rdb/db"
)

// event is one row change on the wire; field order is the envelope's
// (OPS.md §3.2). Row maps are marshalled with sorted keys.
type event struct {
	Op       string         `json:"op"`
	Table    string         `json:"table"`
	NewRowID int64          `json:"new_row_id,omitempty"`
	OldRowID int64          `json:"old_row_id,omitempty"`
	Before   map[string]any `json:"before,omitempty"`
	After    map[string]any `json:"after,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// element is one payload element: the changes of one Raft entry.
type element struct {
	Index           uint64  `json:"index"`
	CommitTimestamp int64   `json:"commit_timestamp"`
	Events          []event `json:"events"`
}

// encodeEntry renders an entry's changes as a payload element, keeping
// only tables the filter matches and dropping row values if rowIDsOnly.
// ok is false when no change is left.
func (c *Config) encodeEntry(e db.EntryChanges) (b []byte, ok bool, err error) {
	el := element{Index: e.Index, CommitTimestamp: e.CommitTime.UnixMilli()}
	for _, ch := range e.Changes {
		if c.filter != nil && !c.filter.MatchString(ch.Table) {
			continue
		}
		ev := event{Op: ch.Op.String(), Table: ch.Table, NewRowID: ch.NewRowID, OldRowID: ch.OldRowID, Error: ch.Error}
		if ch.Op == db.ChangeInsert {
			ev.OldRowID = 0
		}
		if ch.Op == db.ChangeDelete {
			ev.NewRowID = 0
		}
		if !c.RowIDsOnly && ch.Error == "" {
			ev.Before = rowMap(ch.Columns, ch.Before)
			ev.After = rowMap(ch.Columns, ch.After)
		}
		el.Events = append(el.Events, ev)
	}
	if len(el.Events) == 0 {
		return nil, false, nil
	}
	b, err = json.Marshal(el)
	return b, err == nil, err
}

// rowMap pairs column names with values; nil for no row. []byte values
// become base64 (encoding/json), numbers stay numbers.
func rowMap(cols []string, vals []any) map[string]any {
	if vals == nil {
		return nil
	}
	m := make(map[string]any, len(cols))
	for i, c := range cols {
		if i < len(vals) {
			m[c] = vals[i]
		}
	}
	return m
}

// envelope builds the POST body from encoded payload elements: exactly
// what json.Marshal of the whole envelope gives, without decoding them.
func envelope(serviceID, nodeID string, elements [][]byte) []byte {
	var buf bytes.Buffer
	buf.WriteByte('{')
	if serviceID != "" {
		buf.WriteString(`"service_id":`)
		buf.Write(quote(serviceID))
		buf.WriteByte(',')
	}
	buf.WriteString(`"node_id":`)
	buf.Write(quote(nodeID))
	buf.WriteString(`,"payload":[`)
	for i, e := range elements {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(e)
	}
	buf.WriteString("]}")
	return buf.Bytes()
}

func quote(s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		return []byte(strconv.Quote(s))
	}
	return b
}

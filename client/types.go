package client

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Statement is one SQL statement with optional positional and named
// parameters. Its JSON form is the request-body element of API.md §1.3.
type Statement struct {
	SQL    string
	Params []any          // bound to ?, ?NNN
	Named  map[string]any // bound to :k, @k, $k
}

// SQL builds a statement with positional parameters. A []byte parameter is
// sent as a BLOB.
func SQL(sql string, params ...any) Statement {
	return Statement{SQL: sql, Params: params}
}

// MarshalJSON encodes a bare string when there are no parameters, else
// [sql, p1, …, {named}].
func (s Statement) MarshalJSON() ([]byte, error) {
	if len(s.Params) == 0 && len(s.Named) == 0 {
		return json.Marshal(s.SQL)
	}
	arr := make([]any, 0, len(s.Params)+2)
	arr = append(arr, s.SQL)
	for _, p := range s.Params {
		arr = append(arr, blobParam(p))
	}
	if len(s.Named) > 0 {
		named := make(map[string]any, len(s.Named))
		for k, v := range s.Named {
			named[k] = blobParam(v)
		}
		arr = append(arr, named)
	}
	return json.Marshal(arr)
}

// blobParam turns []byte into the byte array the API binds as a BLOB
// (encoding/json would send base64 text).
func blobParam(v any) any {
	b, ok := v.([]byte)
	if !ok {
		return v
	}
	ints := make([]int, len(b))
	for i, c := range b {
		ints[i] = int(c)
	}
	return ints
}

// Level is a read consistency level (API.md §2).
type Level string

// The read consistency levels; "" leaves the choice to the node (weak).
const (
	LevelNone         Level = "none"
	LevelWeak         Level = "weak"
	LevelLinearizable Level = "linearizable"
	LevelStrong       Level = "strong"
	LevelAuto         Level = "auto"
)

// Options are the query parameters of execute, query and request calls.
type Options struct {
	Level           Level         // query and request
	Freshness       time.Duration // with LevelNone: maximum staleness
	FreshnessStrict bool
	Timings         bool // fill Time fields
	Transaction     bool // all statements in one transaction
	BlobArray       bool // BLOBs as byte arrays instead of base64
	RaftIndex       bool // fill Response.RaftIndex for writes
	DBTimeout       time.Duration
}

func (o *Options) values() url.Values {
	v := url.Values{}
	if o == nil {
		return v
	}
	if o.Level != "" {
		v.Set("level", string(o.Level))
	}
	if o.Freshness > 0 {
		v.Set("freshness", o.Freshness.String())
		if o.FreshnessStrict {
			v.Set("freshness_strict", "")
		}
	}
	if o.DBTimeout > 0 {
		v.Set("db_timeout", o.DBTimeout.String())
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{o.Timings, "timings"}, {o.Transaction, "transaction"}, {o.BlobArray, "blob_array"}, {o.RaftIndex, "raft_index"}} {
		if f.on {
			v.Set(f.name, "")
		}
	}
	return v
}

// Response is the top level of an execute, query, request or load reply.
type Response struct {
	Results        []Result `json:"results"`
	Error          string   `json:"error,omitempty"` // the whole request was rejected
	Time           float64  `json:"time,omitempty"`
	SequenceNumber int64    `json:"sequence_number,omitempty"`
	RaftIndex      uint64   `json:"raft_index,omitempty"`
}

// Result is the outcome of one statement: rows (Columns set) or a write.
// Values hold json.Number for numbers, string for text and base64 BLOBs,
// bool, nil for NULL, and []any of json.Number for BLOBs with BlobArray.
type Result struct {
	Columns      []string `json:"columns,omitempty"`
	Types        []string `json:"types,omitempty"`
	Values       [][]any  `json:"values,omitempty"`
	LastInsertID int64    `json:"last_insert_id,omitempty"`
	RowsAffected int64    `json:"rows_affected,omitempty"`
	Error        string   `json:"error,omitempty"`
	Time         float64  `json:"time,omitempty"`
}

// HasRows is true for a rows result (a query, or a write with RETURNING).
func (r Result) HasRows() bool { return r.Columns != nil }

// Err returns the request-level error, else the first statement error, as
// a *SQLError; nil if everything succeeded.
func (r *Response) Err() error {
	if r.Error != "" {
		return &SQLError{Index: -1, Msg: r.Error}
	}
	for i, res := range r.Results {
		if res.Error != "" {
			return &SQLError{Index: i, Msg: res.Error}
		}
	}
	return nil
}

// SQLError is an error the node reported inside a 200 reply.
type SQLError struct {
	Index int // statement index, -1 for the whole request
	Msg   string
}

func (e *SQLError) Error() string {
	if e.Index < 0 {
		return e.Msg
	}
	return "statement " + strconv.Itoa(e.Index) + ": " + e.Msg
}

// Node is one cluster member as /nodes reports it.
type Node struct {
	ID        string  `json:"id"`
	APIAddr   string  `json:"api_addr"`
	Addr      string  `json:"addr"`
	Version   string  `json:"version"`
	Voter     bool    `json:"voter"`
	Reachable bool    `json:"reachable"`
	Leader    bool    `json:"leader"`
	Time      float64 `json:"time,omitempty"`
	TimeS     string  `json:"time_s,omitempty"`
	Error     string  `json:"error,omitempty"`
}

// BackupFormat selects the /db/backup body.
type BackupFormat string

// Backup formats (API.md §4).
const (
	BackupBinary BackupFormat = "binary"
	BackupSQL    BackupFormat = "sql"
	BackupDelete BackupFormat = "delete"
)

// BackupOptions are the /db/backup parameters.
type BackupOptions struct {
	Format   BackupFormat // "" = binary
	Tables   []string     // with BackupSQL only
	Compress bool         // gzip the body
	Vacuum   bool
	NoLeader bool // the connected node's own copy
}

// ReapResult is the /reap reply.
type ReapResult struct {
	SnapshotsReaped  int `json:"snapshots_reaped"`
	WALsCheckpointed int `json:"wals_checkpointed"`
}

func (r ReapResult) String() string {
	return fmt.Sprintf("snapshots reaped: %d, WALs checkpointed: %d", r.SnapshotsReaped, r.WALsCheckpointed)
}

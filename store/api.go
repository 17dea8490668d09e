package store

import (
	"time"

	"github.com/rdb/rdb/db"
)

// Level is a read consistency level (API.md §2).
type Level uint8

const (
	LevelWeak Level = iota // the default
	LevelNone
	LevelLinearizable
	LevelStrong
	LevelAuto
)

// ParseLevel maps a ?level value, case-insensitively; missing or unknown
// values mean LevelWeak (never an error).
func ParseLevel(s string) Level {
	switch lower(s) {
	case "none":
		return LevelNone
	case "linearizable":
		return LevelLinearizable
	case "strong":
		return LevelStrong
	case "auto":
		return LevelAuto
	}
	return LevelWeak
}

func (l Level) String() string {
	switch l {
	case LevelNone:
		return "none"
	case LevelLinearizable:
		return "linearizable"
	case LevelStrong:
		return "strong"
	case LevelAuto:
		return "auto"
	}
	return "weak"
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Request is one client request for Execute, Query or Request.
type Request struct {
	db.Request
	// Level, Freshness, FreshnessStrict and LinearizableTimeout apply to
	// reads (Query, and Request when nothing writes).
	Level               Level
	Freshness           time.Duration
	FreshnessStrict     bool
	LinearizableTimeout time.Duration
}

// Response is the outcome of a request: one Result per statement, and the
// Raft index of the log entry that carried it (0 for reads served
// locally).
type Response struct {
	Results   []db.Result
	RaftIndex uint64
	// ServedBy is the leader's Raft address when cluster forwarded the
	// request; empty when this node served it (X-RQLITE-SERVED-BY).
	ServedBy string
}

// Server is one member of the Raft configuration.
type Server struct {
	ID    string
	Addr  string // Raft address
	Voter bool
}

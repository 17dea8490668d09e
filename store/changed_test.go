package store

import (
	"testing"

	"github.com/rdb/rdb/db"
)

// Which entries move DBAppliedIndex, the index automatic backups compare:
// everything that can change the database, nothing that only reads.
func TestChangesDB(t *testing.T) {
	read := commandRequest{Mode: db.ModeQuery}
	write := commandRequest{Mode: db.ModeExecute}
	tests := []struct {
		name string
		cmd  command
		want bool
	}{
		{"write", command{Type: cmdExecute, Requests: []commandRequest{write}}, true},
		{"request with a write", command{Type: cmdRequest, Requests: []commandRequest{read, write}}, true},
		{"strong reads only", command{Type: cmdQuery, Requests: []commandRequest{read}}, false},
		{"boot's empty entry", command{Type: cmdExecute}, true},
		{"checksum marker", command{Type: cmdExecute, Checksum: true}, false},
		{"interactive transaction", command{Type: cmdTx, Tx: &txCommand{}}, true},
		{"load", command{Type: cmdLoad}, true},
		{"load chunk", command{Type: cmdLoadChunk}, true},
	}
	for _, tt := range tests {
		if got := changesDB(&tt.cmd); got != tt.want {
			t.Errorf("%s: changesDB = %v, want %v", tt.name, got, tt.want)
		}
	}
}

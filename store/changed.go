package store

import (
	"github.com/hashicorp/raft"

	"github.com/rdb/rdb/db"
)

// DBAppliedIndex is the index of the last log entry that changed the
// database: a write request (even one whose statements failed), a load,
// a boot or an interactive transaction's commit; not a strong read, a
// checksum marker, a leader's no-op or a configuration change. After a snapshot is installed it is the snapshot's index. It is
// the same on every node that applied the same log, and it survives a
// restart without writes: the file keeps its applied position, and raft
// replays the entries after the newest snapshot through the FSM, which
// notes the changing ones even when it skips them (the file already has
// them). Automatic backups upload only when it has moved.
func (s *Store) DBAppliedIndex() uint64 {
	if s.proc == nil {
		return 0
	}
	return s.proc.dbChanged.Load()
}

// changesDB reports whether applying cmd changes the database: anything
// but a command made only of strong reads.
func changesDB(cmd *command) bool {
	switch cmd.Type {
	case cmdExecute, cmdRequest, cmdQuery:
		if cmd.Checksum {
			return false // a divergence check's marker reads only
		}
		if len(cmd.Requests) == 0 {
			return cmd.Type != cmdQuery // Boot's empty entry counts
		}
		for i := range cmd.Requests {
			if cmd.Requests[i].Mode != db.ModeQuery {
				return true
			}
		}
		return false
	}
	return true // loads and load chunks
}

// noteChange records l as the last entry that changed the database if
// cmd (decoded from it) does.
func (p *processor) noteChange(l *raft.Log, cmd *command) {
	if changesDB(cmd) && l.Index > p.dbChanged.Load() {
		p.dbChanged.Store(l.Index)
	}
}

// noteSkipped is noteChange for an entry the database already holds
// (raft's replay at start-up), which is otherwise not decoded.
func (p *processor) noteSkipped(l *raft.Log) {
	if l.Type != raft.LogCommand || l.Index <= p.dbChanged.Load() {
		return
	}
	cmd, err := decodeCommand(l.Data)
	if err != nil {
		return // applying it would have panicked; it was applied before
	}
	p.noteChange(l, cmd)
}

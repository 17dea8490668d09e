package store

import (
	"strconv"
)

// Stats is the "store" document of /status (API.md §1.7). Before Open it
// is just {"open": false}.
func (s *Store) Stats() (map[string]any, error) {
	if !s.IsOpen() {
		return map[string]any{"open": false}, nil
	}
	addr, id := s.leader()
	st, _ := s.proc.applied()
	m := map[string]any{
		"open":             true,
		"ready":            s.Ready(),
		"node_id":          s.cfg.NodeID,
		"addr":             s.cfg.RaftAddr,
		"leader":           map[string]any{"node_id": id, "addr": addr},
		"fsm_index":        st.Index,
		"fsm_term":         st.Term,
		"db_applied_index": st.Index,
		"dir":              s.cfg.Dir,
		"db_conf":          map[string]any{"fk_constraints": s.cfg.FKConstraints},
		"raft":             s.raftStats(),
		"nodes":            s.nodeStats(),
		"snapshot_store":   s.snapshotStats(),
		// Durations as text, "0s" when reaping is off (OPS.md §5).
		"reap_timeout":           s.cfg.ReapTimeout.String(),
		"reap_read_only_timeout": s.cfg.ReapReadOnlyTimeout.String(),
	}
	sq, err := s.db.Stats()
	if err != nil {
		sq = map[string]any{"error": err.Error()}
	}
	m["sqlite3"] = sq
	return m, nil
}

// raftStats is raft's Stats() with numeric strings turned into numbers,
// plus whether this node votes.
func (s *Store) raftStats() map[string]any {
	rs := s.raft.Stats()
	out := make(map[string]any, len(rs)+1)
	for k, v := range rs {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			out[k] = n
		} else {
			out[k] = v
		}
	}
	out["voter"] = s.isVoter()
	return out
}

func (s *Store) nodeStats() []map[string]any {
	servers, err := s.Servers()
	if err != nil {
		return []map[string]any{}
	}
	out := make([]map[string]any, len(servers))
	for i, srv := range servers {
		suffrage := "Nonvoter"
		if srv.Voter {
			suffrage = "Voter"
		}
		out[i] = map[string]any{"id": srv.ID, "addr": srv.Addr, "suffrage": suffrage}
	}
	return out
}

func (s *Store) snapshotStats() map[string]any {
	m := map[string]any{"dir": s.snaps.Dir()}
	metas, err := s.snaps.List()
	if err != nil {
		m["error"] = err.Error()
		return m
	}
	ids := make([]string, len(metas))
	for i, meta := range metas {
		ids[i] = meta.ID
	}
	m["snapshots"] = ids
	return m
}

package cluster

// Node is one cluster member as /nodes and /leader report it (API.md §1.8).
type Node struct {
	ID        string  `json:"id"`
	APIAddr   string  `json:"api_addr"` // URL with scheme, e.g. http://localhost:4001
	Addr      string  `json:"addr"`     // Raft address
	Version   string  `json:"version"`
	Voter     bool    `json:"voter"`
	Reachable bool    `json:"reachable"`
	Leader    bool    `json:"leader"`
	Time      float64 `json:"time,omitempty"`
	TimeS     string  `json:"time_s,omitempty"`
	Error     string  `json:"error,omitempty"`
}

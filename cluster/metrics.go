package cluster

// Forwarded counts the requests this process has forwarded to a leader
// (each attempt), for metrics; /debug/vars shows it as
// cluster.num_forwarded.
func Forwarded() int64 { return statValue(numForwarded) }

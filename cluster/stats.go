package cluster

import "expvar"

// Counter names under the "cluster" expvar map (/debug/vars).
const (
	numMetaReq            = "num_meta_req"
	numJoinReq            = "num_join_req"
	numNotifyReq          = "num_notify_req"
	numRemoveReq          = "num_remove_req"
	numStepdownReq        = "num_stepdown_req"
	numExecuteReq         = "num_execute_req"
	numQueryReq           = "num_query_req"
	numRequestReq         = "num_request_req"
	numUnknownReq         = "num_unknown_req"
	numUnauthorized       = "num_unauthorized"
	numForwarded          = "num_forwarded"
	numClientForceNewConn = "num_client_force_new_conn"
	numBootstraps         = "num_bootstraps"
)

// stats is published once per process, when the package is initialised.
var stats = func() *expvar.Map {
	m := expvar.NewMap("cluster")
	for _, k := range []string{
		numMetaReq, numJoinReq, numNotifyReq, numRemoveReq, numStepdownReq, numExecuteReq,
		numQueryReq, numRequestReq, numUnknownReq, numForwarded, numClientForceNewConn, numBootstraps,
	} {
		m.Add(k, 0)
	}
	return m
}()

// countOp counts one request served by the RPC server.
func countOp(o op) {
	key := numUnknownReq
	switch o {
	case opMeta:
		key = numMetaReq
	case opJoin:
		key = numJoinReq
	case opNotify:
		key = numNotifyReq
	case opRemove:
		key = numRemoveReq
	case opStepdown:
		key = numStepdownReq
	case opExecute:
		key = numExecuteReq
	case opQuery:
		key = numQueryReq
	case opRequest:
		key = numRequestReq
	case opChecksum:
		key = numChecksumReq
	}
	stats.Add(key, 1)
}

// statValue reads a counter (for tests and logs).
func statValue(key string) int64 {
	if v, ok := stats.Get(key).(*expvar.Int); ok {
		return v.Value()
	}
	return 0
}

package cdc

import (
	"expvar"
	"sync"
)

// Counters in the expvar map "cdc.service" (/debug/vars).
const (
	numEnqueued       = "num_enqueued"        // payload elements queued
	numEnqueueFailed  = "num_enqueue_failed"  // elements lost to a queue write error
	numBatchesSent    = "num_batches_sent"    // POSTs the endpoint accepted
	numSendFailures   = "num_send_failures"   // failed attempts (each retried)
	numBatchesDropped = "num_batches_dropped" // batches given up after transmit_max_retries
)

// stats is published once per process, every counter at zero.
var stats = sync.OnceValue(func() *expvar.Map {
	m := expvar.NewMap("cdc.service")
	for _, k := range []string{numEnqueued, numEnqueueFailed, numBatchesSent, numSendFailures, numBatchesDropped} {
		m.Add(k, 0)
	}
	return m
})

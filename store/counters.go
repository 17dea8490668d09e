package store

import (
	"expvar"
	"sync"
)

// Names of the counters in the expvar map "store" (/debug/vars).
const (
	numSnapshots            = "num_snapshots"
	numRestores             = "num_restores"
	numRestoresStart        = "num_restores_start"
	numRestoresStartSkipped = "num_restores_start_skipped"
	numIgnoredJoins         = "num_ignored_joins"
	numRemovedBeforeJoins   = "num_removed_before_joins"
	numUserSnapshots        = "num_user_snapshots"
	numWALSnapshots         = "num_wal_snapshots"
	numLinearizableUpgrades = "num_linearizable_upgrades"
	numStaleReads           = "num_stale_reads"
)

// counters is the process-wide expvar map "store". expvar panics on a
// second Publish of a name, and a process (a test binary) may run many
// stores, so it is published once.
var counters = sync.OnceValue(func() *expvar.Map {
	m := expvar.NewMap("store")
	for _, k := range []string{
		numSnapshots, numRestores, numRestoresStart, numRestoresStartSkipped,
		numIgnoredJoins, numRemovedBeforeJoins, numUserSnapshots, numWALSnapshots,
		numLinearizableUpgrades, numStaleReads,
		numFailedHeartbeats, numReapedOK, numReapedFailed,
	} {
		m.Add(k, 0)
	}
	return m
})

package store

import (
	"strings"
	"sync"

	"github.com/rdb/rdb/db"
)

// testHooks are deliberate faults that prove rdb's consistency checkers
// can fail (system_test/faults_test.go). They exist only in binaries
// built with the rdb_testhooks build tag (testhooks_on.go), which reads
// them from the environment; in every other build (testhooks_off.go)
// they are the zero value and the code they guard compiles away. This
// is the one place library code reads the environment.
type testHooks struct {
	// noConfirm: a linearizable read is served from the local database
	// without checking that this node leads or confirming it with a
	// heartbeat round (RDB_TEST_UNSAFE_LINEARIZABLE_NO_CONFIRM=1).
	noConfirm bool
	// skipMatch: the first command entry with a statement containing
	// this text has no effect on this node, which still records it as
	// applied (RDB_TEST_UNSAFE_SKIP_ENTRY_MATCH=text).
	skipMatch string
}

// hooks is set once, at package initialisation.
var hooks = loadTestHooks()

// skipOnce makes skipMatch act on one entry only.
var skipOnce sync.Once

// skipHooked empties the requests of the first entry with a statement
// containing hooks.skipMatch (FSM goroutine only).
func (p *processor) skipHooked(index uint64, items []db.Item) []db.Item {
	for _, it := range items {
		for _, st := range it.Req.Statements {
			if !strings.Contains(st.SQL, hooks.skipMatch) {
				continue
			}
			hit := false
			skipOnce.Do(func() { hit = true })
			if !hit {
				return items
			}
			p.logger.Warn("UNSAFE test switch: skipping the effects of a log entry", "index", index)
			out := make([]db.Item, len(items))
			for k := range items {
				out[k] = db.Item{Req: &db.Request{}, Mode: items[k].Mode, Env: items[k].Env}
			}
			return out
		}
	}
	return items
}

package hrana

import (
	"expvar"
	"sync"
	"sync/atomic"
)

// current is the Server /debug/vars reports (the last one created; a
// process runs one, test binaries may run several).
var current atomic.Pointer[Server]

// publish makes s the Server behind the expvar "hrana" (/debug/vars):
// the same document as the "hrana" section of /status. expvar panics on a
// second Publish of a name, so it is published once per process.
func publish(s *Server) {
	current.Store(s)
	publishOnce()
}

var publishOnce = sync.OnceFunc(func() {
	expvar.Publish("hrana", expvar.Func(func() any {
		if s := current.Load(); s != nil {
			return s.Stats()
		}
		return map[string]any{}
	}))
})

package db

import "context"

// Apply runs req on the write connection in the given mode, as one
// request outside the Raft apply path (the FSM uses ApplyBatch, which also
// records the applied index): tests and tools. Statement errors are
// returned inside the Results, the error is for failures of the database
// itself (ErrClosed).
//
// Determinism: random(), randomblob(N) and every 'now' (date/time
// functions, CURRENT_*) are computed from env, so the same entry yields
// the same values on every node (see doc.go).
func (d *DB) Apply(ctx context.Context, req *Request, mode Mode, env Env) ([]Result, error) {
	if err := d.begin(); err != nil {
		return nil, err
	}
	defer d.swap.RUnlock()
	d.wmu.Lock()
	defer d.wmu.Unlock()
	d.fenv.reset(env, req)
	r := d.writeRunner(req, false)
	return r.run(ctx, mode), nil
}

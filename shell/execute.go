package shell

import (
	"context"
	"fmt"

	"github.com/rdb/rdb/client"
)

// execute sends one SQL statement (POST /db/request, or /db/execute with
// .forcewrites) and prints the results. It reports success.
func (s *Shell) execute(ctx context.Context, sql string) bool {
	if ok, handled := s.executeTx(ctx, sql); handled {
		return ok
	}
	o := &client.Options{Timings: s.timer, BlobArray: s.blobArray}
	stmts := []client.Statement{client.SQL(sql)}
	var (
		resp *client.Response
		err  error
	)
	if s.forceWrites {
		resp, err = s.c.Execute(ctx, stmts, o)
	} else {
		resp, err = s.c.Request(ctx, stmts, o)
	}
	if err != nil {
		s.errorf(err)
		return false
	}
	return s.printResponse(resp)
}

// printResponse prints every result and reports whether all succeeded.
func (s *Shell) printResponse(resp *client.Response) bool {
	if resp.Error != "" {
		fmt.Fprintf(s.out, "Error: %s\n", resp.Error)
		return false
	}
	ok := true
	for _, r := range resp.Results {
		if !s.printResult(r) {
			ok = false
		}
	}
	return ok
}

// printResult prints rows in the current mode, or a write's counts.
func (s *Shell) printResult(r client.Result) bool {
	if r.Error != "" {
		fmt.Fprintf(s.out, "Error: %s\n", r.Error)
		return false
	}
	if r.HasRows() {
		s.render(r)
		if s.timer {
			fmt.Fprintf(s.out, "Run Time: %f seconds\n", r.Time)
		}
		return true
	}
	noun := "row"
	if r.RowsAffected > 1 {
		noun = "rows"
	}
	if s.timer {
		fmt.Fprintf(s.out, "%d %s affected (%f sec)\n", r.RowsAffected, noun, r.Time)
	} else {
		fmt.Fprintf(s.out, "%d %s affected\n", r.RowsAffected, noun)
	}
	if s.changes {
		fmt.Fprintf(s.out, "last insert ID: %d\n", r.LastInsertID)
	}
	return true
}

package db

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestQuery_MaxResultBytes: a result over the bound fails in its slot with
// a clear error, on the read pool and on the apply path; smaller results
// and the other statements of the request are unaffected.
func TestQuery_MaxResultBytes(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "db.sqlite")
	cfg.MaxResultBytes = 64 << 10
	d, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })

	big := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 100000) SELECT x FROM c"
	small := "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c LIMIT 100) SELECT x FROM c"
	req := &Request{Statements: stmts(big, small)}
	for name, got := range map[string][]Result{
		"read pool":  query(t, d, req),
		"apply path": apply(t, d, req, ModeQuery, Env{}),
	} {
		t.Run(name, func(t *testing.T) {
			if len(got) != 2 {
				t.Fatalf("got %d results, want 2", len(got))
			}
			if !strings.HasPrefix(got[0].Error, ErrResultTooLarge.Error()) || len(got[0].Values) != 0 {
				t.Fatalf("big result: error %q with %d rows, want %q and no rows", got[0].Error, len(got[0].Values), ErrResultTooLarge)
			}
			if got[1].Error != "" || len(got[1].Values) != 100 {
				t.Fatalf("small result: error %q, %d rows; want 100 rows", got[1].Error, len(got[1].Values))
			}
		})
	}
}

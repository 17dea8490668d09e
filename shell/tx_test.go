package shell

import (
	"testing"
)

func TestShell_Transaction(t *testing.T) {
	n := startNode(t, "")
	input := `CREATE TABLE acc (id INTEGER PRIMARY KEY, v INTEGER);
BEGIN;
INSERT INTO acc (v) VALUES (1);
SELECT COUNT(*) AS n FROM acc;
COMMIT;
BEGIN;
INSERT INTO acc (v) VALUES (2);
ROLLBACK;
.mode csv
SELECT v FROM acc;
BEGIN;
INSERT INTO acc (v) VALUES (3);
`
	out, code := runShell(t, input, n.HTTPAddr)
	got := body(t, out)
	want := "0 row affected\n1 row affected\n+---+\n| n |\n+---+\n| 1 |\n+---+\n1 row affected\nv\n1\n1 row affected\ntransaction rolled back\n"
	if code != 0 || got != want {
		t.Fatalf("exit %d, got\n%s\nwant\n%s", code, got, want)
	}
	// The transaction left open at the end of input was rolled back.
	out, _ = runShell(t, ".mode csv\nSELECT COUNT(*) AS n FROM acc;\n", n.HTTPAddr)
	if got := body(t, out); got != "n\n1\n" {
		t.Fatalf("after the session: %q", got)
	}
}

func TestTxVerb(t *testing.T) {
	for sql, want := range map[string]string{
		"BEGIN": "BEGIN", "begin immediate;": "BEGIN", " BEGIN TRANSACTION ; ": "BEGIN",
		"COMMIT;": "COMMIT", "end transaction": "COMMIT", "ROLLBACK": "ROLLBACK",
		"ROLLBACK TO sp": "", "ROLLBACK TRANSACTION TO SAVEPOINT sp": "", "BEGIN; INSERT INTO t VALUES (1);": "",
		"SELECT 1": "", "": "",
	} {
		if got := txVerb(sql); got != want {
			t.Errorf("txVerb(%q) = %q, want %q", sql, got, want)
		}
	}
}

package shell

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rdb/rdb/internal/rdbtest"
)

const fooSetup = `CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, data BLOB);
INSERT INTO foo(name) VALUES("fiona");
INSERT INTO foo(name, data) VALUES("日本語", x'deadbeef');
`

func TestShell_Modes(t *testing.T) {
	n := startNode(t, "")
	out, code := runShell(t, fooSetup, n.HTTPAddr)
	if got := body(t, out); code != 0 || !regexp.MustCompile(`^(\d row affected\n){3}$`).MatchString(got) {
		t.Fatalf("setup: exit %d, output %q, want three writes", code, got)
	}
	tests := []struct {
		mode string
		want string
	}{
		{"column", `+----+--------+----------+
| id | name   | data     |
+----+--------+----------+
| 1  | fiona  | <nil>    |
| 2  | 日本語 | 3q2+7w== |
+----+--------+----------+
`},
		{"csv", "id,name,data\n1,fiona,NULL\n2,日本語,3q2+7w==\n"},
		{"line", "  id = 1\nname = fiona\ndata = NULL\n\n  id = 2\nname = 日本語\ndata = 3q2+7w==\n"},
		{"json", `[
  {
    "data": null,
    "id": 1,
    "name": "fiona"
  },
  {
    "data": "3q2+7w==",
    "id": 2,
    "name": "日本語"
  }
]
`},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			out, code := runShell(t, ".mode "+tt.mode+"\nSELECT * FROM foo ORDER BY id;\n", n.HTTPAddr)
			if got := body(t, out); got != tt.want || code != 0 {
				t.Errorf("exit %d, got\n%s\nwant\n%s", code, got, tt.want)
			}
		})
	}
}

// check is one expectation on a shell session's output.
type check func(t *testing.T, got string)

func exact(want string) check {
	return func(t *testing.T, got string) {
		t.Helper()
		if got != want {
			t.Errorf("got\n%q\nwant\n%q", got, want)
		}
	}
}

func matches(re string) check {
	return func(t *testing.T, got string) {
		t.Helper()
		if !regexp.MustCompile(re).MatchString(got) {
			t.Errorf("got\n%s\nwant a match for %s", got, re)
		}
	}
}

func TestShell_Commands(t *testing.T) {
	n := startNode(t, "")
	if _, code := runShell(t, fooSetup, n.HTTPAddr); code != 0 {
		t.Fatalf("setup failed")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "script.sql")
	os.WriteFile(script, []byte("-- a comment\n\nINSERT INTO foo(name) VALUES('r1')\nINSERT INTO foo(name) VALUES('r2')\n"), 0o600)
	outFile := filepath.Join(dir, "out.txt")
	tests := []struct {
		name     string
		input    string
		wantCode int
		check    check
	}{
		{"sql error", "SELECT * FROM nosuch;\n", 0, exact("Error: no such table: nosuch\n")},
		{"syntax error", "SELEKT 1;\n", 0, matches(`^Error: .*syntax error\n$`)},
		{"write", "UPDATE foo SET name = name;\n", 0, matches(`^(2|4) rows affected\n$`)},
		{"multi-line", "SELECT\n  COUNT(*)\nFROM foo\n;\n", 0, matches(`\| COUNT\(\*\) \|\n\+-+\+\n\| \d+ +\|`)},
		{"command ends a statement", "SELECT 6\n.ready\n", 0, exact("+---+\n| 6 |\n+---+\n| 6 |\n+---+\nready\n")},
		{"missing semicolon at EOF", "SELECT 42", 0, exact("+----+\n| 42 |\n+----+\n| 42 |\n+----+\n")},
		{"timer", ".timer on\nSELECT 1;\nUPDATE foo SET name = name WHERE id = 1;\n", 0,
			matches(`^\+---\+\n\| 1 \|\n\+---\+\n\| 1 \|\n\+---\+\nRun Time: \d+\.\d{6} seconds\n1 row affected \(\d+\.\d{6} sec\)\n$`)},
		{"changes", ".changes on\nINSERT INTO foo(name) VALUES('c');\n", 0, matches(`^1 row affected\nlast insert ID: \d+\n$`)},
		// Only user tables: rdb's bookkeeping table stays out of listings.
		{"tables", ".tables\n", 0, exact("+------+\n| name |\n+------+\n| foo  |\n+------+\n")},
		{"schema", ".schema\n", 0, matches(`^\+-+\+\n\| sql +\|\n\+-+\+\n\| CREATE TABLE foo \(id INTEGER NOT NULL PRIMARY KEY, name TEXT, data BLOB\) +\|\n\+-+\+\n$`)},
		{"indexes", ".indexes\n", 0, exact("+-----+\n| sql |\n+-----+\n")},
		{"consistency", ".consistency\n.consistency strong\n.consistency\n.TABLES\n", 0, matches(`(?s)^weak\nstrong\n.*\| foo +\|`)},
		{"consistency bad", ".consistency sometimes\n", 0, matches(`^ERR! usage: \.consistency`)},
		{"show", ".mode csv\n.timer on\n.show\n", 0, exact("   blobarray: off\n     changes: off\n consistency: weak\n forcewrites: off\n        mode: csv\n      output: stdout\n       timer: on\n")},
		{"help", ".help\n", 0, matches(`(?s)^\.backup <file> +Write database backup.*\.help +Show this message\n.*\.timer on\|off +Turn query timings on or off\n$`)},
		{"status", ".status\n", 0, matches(`(?m)^build:\n(  .*\n)*  version: `)},
		{"status key", ".status store.leader\n", 0, matches(`^addr: .*\nnode_id: .*\n$`)},
		{"expvar", ".expvar cmdline\n", 0, matches(`^cmdline: \[".*rdb"`)},
		{"nodes", ".nodes\n", 0, matches(`(?m)^` + regexp.QuoteMeta(n.RaftAddr) + `:\n  addr: .*\n  api_addr: http://` + regexp.QuoteMeta(n.HTTPAddr) + `\n  id: .*\n  leader: true\n`)},
		{"nodes all", ".nodes all\n", 0, matches(`  voter: true\n$`)},
		{"leader", ".leader\n", 0, matches(`(?m)^api_addr: http://` + regexp.QuoteMeta(n.HTTPAddr) + `\n(.*\n)*leader: true\n`)},
		{"ready", ".ready\n", 0, exact("ready\n")},
		{"extensions", ".extensions\n", 0, exact("")},
		{"forcewrites", ".forcewrites on\nINSERT INTO foo(name) VALUES('fw');\n", 0, exact("1 row affected\n")},
		{"blobarray", ".blobarray on\n.mode csv\nSELECT data FROM foo WHERE id = 2;\n", 0, exact("data\n[222 173 190 239]\n")},
		{"read", ".read " + script + "\n", 0, exact("1 row affected\n1 row affected\n")},
		{"output", ".output " + outFile + "\nSELECT 7;\n.output stdout\nSELECT 8;\n", 0, exact("+---+\n| 8 |\n+---+\n| 8 |\n+---+\n")},
		{"quit stops", "SELECT 1;\n.quit\nSELECT * FROM nosuch;\n", 0, matches(`^\+---\+\n(.*\n){4}$`)},
		{"exit word", "exit\nSELECT * FROM nosuch;\n", 0, exact("")},
		{"unknown command", ".frobnicate\n", 0, exact("ERR! unknown command \".frobnicate\"; enter \".help\" for usage hints\n")},
		{"mode bad", ".mode fancy\n", 0, exact("ERR! usage: .mode column|csv|json|line\n")},
		{"errors continue", "SELECT * FROM nosuch;\nSELECT 5;\n", 0, matches(`^Error: no such table: nosuch\n\+---\+\n\| 5 \|`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runShell(t, tt.input, n.HTTPAddr)
			if code != tt.wantCode {
				t.Errorf("exit status %d, want %d; output:\n%s", code, tt.wantCode, out)
			}
			tt.check(t, body(t, out))
		})
	}
	t.Run("output file content", func(t *testing.T) {
		got, err := os.ReadFile(outFile)
		if want := "+---+\n| 7 |\n+---+\n| 7 |\n+---+\n"; err != nil || string(got) != want {
			t.Errorf("output file: %q, %v; want %q", got, err, want)
		}
	})
}

func TestShell_BailAndOneShot(t *testing.T) {
	n := startNode(t, "")
	tests := []struct {
		name     string
		cfg      func(Config) Config
		input    string
		wantCode int
		want     string
	}{
		{"bail stops at first error", func(c Config) Config { c.Bail = true; return c },
			"SELECT 1;\nSELECT * FROM nosuch;\nSELECT 5;\n", 1, "+---+\n| 1 |\n+---+\n| 1 |\n+---+\nError: no such table: nosuch\nbye~\n"},
		{"one-shot", func(c Config) Config { c.Commands = []string{"SELECT 3", ".ready"}; return c },
			"", 0, "+---+\n| 3 |\n+---+\n| 3 |\n+---+\nready\n"},
		{"line mode", func(c Config) Config { c.LineMode = true; return c },
			"SELECT 1\nSELECT 2\n", 0, "+---+\n| 1 |\n+---+\n| 1 |\n+---+\n+---+\n| 2 |\n+---+\n| 2 |\n+---+\nbye~\n"},
		{"one-shot failure", func(c Config) Config { c.Commands = []string{"SELECT * FROM nosuch"}; return c },
			"", 1, "Error: no such table: nosuch\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := runShellConfig(t, tt.cfg(testConfig(n.HTTPAddr)), tt.input)
			if len(tt.cfg(Config{}).Commands) == 0 { // drop the welcome
				out = out[strings.Index(out, "\n+")+1:]
			}
			if out != tt.want || code != tt.wantCode {
				t.Errorf("exit %d output\n%q\nwant exit %d output\n%q", code, out, tt.wantCode, tt.want)
			}
		})
	}
}

func TestShell_Unreachable(t *testing.T) {
	addr := rdbtest.UnusedAddr(t) // nothing listens there any more
	out, code := runShell(t, "SELECT 1;\n", addr)
	want := "ERR! Unable to connect to rqlited at http://" + addr + " - is it running?\n"
	if out != want || code != 1 {
		t.Errorf("exit %d output %q, want exit 1 output %q", code, out, want)
	}
}

func TestShell_Auth_RealNode(t *testing.T) {
	authFile := filepath.Join(t.TempDir(), "auth.json")
	users := `[{"username":"bob","password":"pw","perms":["all"]},{"username":"*","perms":["ready"]}]`
	if err := os.WriteFile(authFile, []byte(users), 0o600); err != nil {
		t.Fatal(err)
	}
	n := startNode(t, "", "-auth", authFile)
	tests := []struct {
		name, user, pass string
		wantCode         int
		want             string
	}{
		{"right password", "bob", "pw", 0, "ready\n"},
		{"wrong password", "bob", "nope", 1, "ERR! unauthorized (HTTP 401): check the user and password given with " +
			"-u user:pass, and that this user has the permission for the operation\n"},
		{"no credentials", "", "", 1, "ERR! unauthorized (HTTP 401): the node requires a user and password; give them with -u user:pass\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(n.HTTPAddr)
			cfg.Client.User, cfg.Client.Password = tt.user, tt.pass
			cfg.Commands = []string{".ready"}
			if out, code := runShellConfig(t, cfg, ""); out != tt.want || code != tt.wantCode {
				t.Errorf("exit %d output %q, want exit %d output %q", code, out, tt.wantCode, tt.want)
			}
		})
	}
}

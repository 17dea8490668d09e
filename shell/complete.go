package shell

import (
	"context"
	"strings"
	"time"

	"github.com/rdb/rdb/client"
)

// complete is liner's word completer: dot-command names at the start of a
// line, else table names (fetched from the node) and SQL keywords.
func (s *Shell) complete(line string, pos int) (string, []string, string) {
	if pos > len(line) {
		pos = len(line)
	}
	before, tail := line[:pos], line[pos:]
	start := strings.LastIndexAny(before, " \t(,") + 1
	head, word := before[:start], before[start:]
	var cands []string
	if strings.TrimSpace(head) == "" && strings.HasPrefix(word, ".") {
		cands = commandNames()
	} else {
		cands = append(s.tableNames(), sqlKeywords...)
	}
	var out []string
	for _, c := range cands {
		if len(c) >= len(word) && strings.EqualFold(c[:len(word)], word) && c != word {
			out = append(out, c)
		}
	}
	return head, out, tail
}

// sqlKeywords are offered by tab completion after the table names.
var sqlKeywords = []string{"CREATE TABLE", "DELETE FROM", "DROP TABLE", "FROM", "INSERT INTO",
	"ORDER BY", "GROUP BY", "SELECT", "UPDATE", "VALUES", "WHERE"}

// tableNames asks the node for table names; completion must not hang, so
// it gives up after two seconds.
func (s *Shell) tableNames() []string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	o := &client.Options{Level: client.LevelNone}
	resp, err := s.c.Query(ctx, []client.Statement{client.SQL(
		`SELECT name FROM sqlite_master WHERE type IN ("table","view") AND name NOT LIKE 'sqlite_%' AND ` +
			notBookkeeping + ` ORDER BY name`)}, o)
	if err != nil || len(resp.Results) == 0 {
		return nil
	}
	var names []string
	for _, row := range resp.Results[0].Values {
		if len(row) > 0 {
			if n, ok := row[0].(string); ok {
				names = append(names, n)
			}
		}
	}
	return names
}

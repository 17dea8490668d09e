package shell

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/rdb/rdb/client"
	"github.com/rdb/rdb/db"
)

// dotCommand is one entry of the .help table.
type dotCommand struct {
	usage string
	help  string
	run   func(s *Shell, ctx context.Context, args []string) error
}

// commands maps a lower-case dot-command name to its implementation.
var commands map[string]dotCommand

func init() {
	commands = map[string]dotCommand{
		"backup":      {"<file>", "Write database backup to SQLite file", (*Shell).cmdBackup},
		"blobarray":   {"on|off", "Show BLOB data as byte arrays", toggle(func(s *Shell) *bool { return &s.blobArray })},
		"boot":        {"<file>", "Boot a node using a SQLite file", (*Shell).cmdBoot},
		"changes":     {"on|off", "Show last insert ID after INSERT", toggle(func(s *Shell) *bool { return &s.changes })},
		"consistency": {"[none|weak|linearizable|strong]", "Show or set read consistency level", (*Shell).cmdConsistency},
		"dump":        {"<file> [table1,table2,...]", "Dump the database in SQL text format to a file", (*Shell).cmdDump},
		"exit":        {"", "Exit this program", cmdQuit},
		"expvar":      {"[key]", "Show expvar (Go runtime) information for connected node", (*Shell).cmdExpvar},
		"extensions":  {"", "Show loaded SQLite extensions", (*Shell).cmdExtensions},
		"forcewrites": {"on|off", "Send all statements to the /db/execute endpoint", toggle(func(s *Shell) *bool { return &s.forceWrites })},
		"help":        {"", "Show this message", (*Shell).cmdHelp},
		"indexes":     {"", "Show names of all indexes", (*Shell).cmdIndexes},
		"leader":      {"", "Show the current cluster leader", (*Shell).cmdLeader},
		"mode":        {"column|csv|json|line", "Set output mode (default column)", (*Shell).cmdMode},
		"nodes":       {"[all]", "Show connection status of voting nodes. 'all' to show all nodes", (*Shell).cmdNodes},
		"output":      {"FILE|stdout", "Set output file (default stdout)", (*Shell).cmdOutput},
		"quit":        {"", "Exit this program", cmdQuit},
		"read":        {"<file>", "Execute SQL statements from a file", (*Shell).cmdRead},
		"ready":       {"", "Show ready status for connected node", (*Shell).cmdReady},
		"reap":        {"", "Request the node to reap snapshots", (*Shell).cmdReap},
		"remove":      {"<raft ID>", "Remove a node from the cluster", (*Shell).cmdRemove},
		"restore":     {"<file>", "Load using SQLite file or SQL dump contained in file", (*Shell).cmdRestore},
		"schema":      {"", "Show CREATE statements for all tables", (*Shell).cmdSchema},
		"show":        {"", "Show current settings", (*Shell).cmdShow},
		"snapshot":    {"[trailing logs]", "Request a Raft snapshot and log truncation on connected node", (*Shell).cmdSnapshot},
		"status":      {"[key]", "Show status and diagnostic information for connected node", (*Shell).cmdStatus},
		"stepdown":    {"[node ID]", "Instruct the leader to stepdown, optionally specify new leader node", (*Shell).cmdStepdown},
		"sysdump":     {"<file>", "Dump system diagnostics to a file for offline analysis", (*Shell).cmdSysdump},
		"tables":      {"", "List names of tables", (*Shell).cmdTables},
		"timer":       {"on|off", "Turn query timings on or off", toggle(func(s *Shell) *bool { return &s.timer })},
	}
}

// commandNames returns ".backup", ".blobarray", … sorted.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, "."+n)
	}
	sort.Strings(names)
	return names
}

// command runs a dot-command or quit/exit line; names are case-insensitive.
func (s *Shell) command(ctx context.Context, line string) error {
	fields := strings.Fields(strings.TrimSuffix(strings.TrimSpace(line), ";"))
	if len(fields) == 0 {
		return nil
	}
	name := strings.ToLower(strings.TrimPrefix(fields[0], "."))
	cmd, ok := commands[name]
	if !ok {
		return fmt.Errorf("unknown command %q; enter \".help\" for usage hints", fields[0])
	}
	err := cmd.run(s, ctx, fields[1:])
	if err == errUsage {
		return fmt.Errorf("usage: .%s %s", name, cmd.usage)
	}
	return err
}

func cmdQuit(*Shell, context.Context, []string) error { return errQuit }

func (s *Shell) cmdHelp(context.Context, []string) error {
	for _, n := range commandNames() {
		c := commands[n[1:]]
		left := n
		if c.usage != "" {
			left += " " + c.usage
		}
		fmt.Fprintf(s.out, "%-36s %s\n", left, c.help)
	}
	return nil
}

// toggle builds an on|off command over one setting; without an argument
// it shows the setting.
func toggle(field func(*Shell) *bool) func(*Shell, context.Context, []string) error {
	return func(s *Shell, _ context.Context, args []string) error {
		p := field(s)
		if len(args) == 0 {
			fmt.Fprintln(s.out, onOff(*p))
			return nil
		}
		switch strings.ToLower(args[0]) {
		case "on":
			*p = true
		case "off":
			*p = false
		default:
			return errUsage
		}
		return nil
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

func (s *Shell) cmdMode(_ context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintf(s.out, "current output mode: %s\n", s.mode)
		return nil
	}
	m := strings.ToLower(args[0])
	for _, known := range modes {
		if m == known {
			s.mode = m
			return nil
		}
	}
	return errUsage
}

func (s *Shell) cmdConsistency(_ context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(s.out, s.consistency)
		return nil
	}
	switch l := client.Level(strings.ToLower(args[0])); l {
	case client.LevelNone, client.LevelWeak, client.LevelLinearizable, client.LevelStrong:
		s.consistency = l
		return nil
	}
	return errUsage
}

func (s *Shell) cmdShow(context.Context, []string) error {
	output := "stdout"
	if s.file != nil {
		output = s.file.Name()
	}
	settings := [][2]string{
		{"blobarray", onOff(s.blobArray)}, {"changes", onOff(s.changes)},
		{"consistency", string(s.consistency)}, {"forcewrites", onOff(s.forceWrites)},
		{"mode", s.mode}, {"output", output}, {"timer", onOff(s.timer)},
	}
	for _, kv := range settings {
		fmt.Fprintf(s.out, "%12s: %s\n", kv[0], kv[1])
	}
	return nil
}

// query runs one read at the .consistency level and prints it.
func (s *Shell) query(ctx context.Context, sql string) error {
	o := &client.Options{Level: s.consistency, Timings: s.timer, BlobArray: s.blobArray}
	resp, err := s.c.Query(ctx, []client.Statement{client.SQL(sql)}, o)
	if err != nil {
		return err
	}
	if !s.printResponse(resp) {
		s.failed = true
	}
	return nil
}

// notBookkeeping keeps rdb's own table (and anything on it) out of the
// listings, which show users only their own objects, as rqlite's shell
// does; against rqlite it filters nothing.
const notBookkeeping = `tbl_name != '` + db.AppliedTable + `'`

func (s *Shell) cmdTables(ctx context.Context, _ []string) error {
	return s.query(ctx, `SELECT name FROM sqlite_master WHERE type="table" AND `+notBookkeeping+` ORDER BY name ASC`)
}

func (s *Shell) cmdSchema(ctx context.Context, _ []string) error {
	return s.query(ctx, `SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND `+notBookkeeping+` ORDER BY rowid ASC`)
}

func (s *Shell) cmdIndexes(ctx context.Context, _ []string) error {
	return s.query(ctx, `SELECT sql FROM sqlite_master WHERE type="index" AND `+notBookkeeping)
}

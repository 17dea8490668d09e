package shell

import "github.com/rdb/rdb/client"

// Config is everything the shell needs; cmd/rdb fills it from flags.
type Config struct {
	// Client says how to reach the nodes (addresses, alternates, TLS, auth).
	Client client.Config
	// HistoryFile keeps interactive history between sessions ("" = none).
	HistoryFile string
	// Bail stops at the first failed statement or command and makes the
	// exit status 1; without it, input from a pipe or terminal goes on
	// after a failure and exits 0, as rqlite's shell does.
	Bail bool
	// LineMode makes every input line one statement, as rqlite's shell
	// reads input; otherwise a statement continues until it ends with `;`.
	LineMode bool
	// Commands, if not empty, are run in order instead of reading input
	// (one-shot mode: no welcome, no prompt, no "bye~").
	Commands []string
}

// DefaultConfig talks to 127.0.0.1:4001 over http.
func DefaultConfig() Config {
	return Config{Client: client.DefaultConfig()}
}

// Validate reports a configuration the shell cannot start with.
func (c Config) Validate() error {
	if len(c.Client.Addrs) == 0 {
		return ErrNoNode
	}
	return c.Client.Validate()
}

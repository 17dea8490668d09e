// Package shell is `rdb shell` (alias `rqlite`): the interactive SQL client
// of API.md §7. It reads statements and dot-commands from a terminal (line
// editing, history, tab completion, multi-line statements ended by `;`) or
// from a pipe (no prompts, no colours; failures printed and skipped, exit
// status 0 unless -bail, as in rqlite's shell),
// sends them through package client, and renders the replies as rqlite's
// shell does (.mode column|csv|json|line).
//
// It owns the input loop, the dot-commands and the output text. It must not
// parse command-line flags or read the environment (cmd/rdb does that and
// fills Config), call os.Exit, or speak HTTP other than through client.
package shell

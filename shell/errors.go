package shell

import "errors"

var (
	// ErrNoNode is returned by Config.Validate when no node address is
	// configured.
	ErrNoNode = errors.New("shell: no node address")

	// errInterrupted is returned by a lineReader when the user pressed
	// Ctrl-C: the current input is abandoned, the shell goes on.
	errInterrupted = errors.New("shell: interrupted")

	// errQuit ends the input loop (.quit, .exit, quit, exit).
	errQuit = errors.New("shell: quit")

	// errUsage marks a dot-command called with bad arguments.
	errUsage = errors.New("usage")
)

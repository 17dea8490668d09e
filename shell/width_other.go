//go:build !unix

package shell

import "os"

// terminalWidth is unknown off unix: tables are not narrowed.
func terminalWidth(*os.File) int { return 0 }

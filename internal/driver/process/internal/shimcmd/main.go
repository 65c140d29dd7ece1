// Command shimcmd runs the process runtime's shim for the package's tests,
// as `berth shim` does: shimcmd run DIR | shimcmd exec.
package main

import (
	"os"

	"berth.dev/berth/internal/driver/process"
)

func main() { os.Exit(process.RunShim(os.Args[1:])) }

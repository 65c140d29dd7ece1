// Command berth is berth's single binary: the control-plane server, the
// all-in-one dev mode and the command-line client.
package main

import (
	"context"
	"os"

	"berth.dev/berth/internal/cli"
	// Runs `berth shim ...` during package initialisation (see its doc).
	_ "berth.dev/berth/internal/shimentry"
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr}))
}

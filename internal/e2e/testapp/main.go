// Command berth-testapp is the program every runtime test runs: see
// internal/demoapp, which it runs (`berth demo-app` is the same program).
package main

import (
	"os"

	"berth.dev/berth/internal/demoapp"
)

func main() { os.Exit(demoapp.Main(os.Args[1:])) }

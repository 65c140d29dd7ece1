// Command berth-testapp is the program every runtime test runs: see
// internal/demoapp, which it runs (`berth demo-app` is the same program).
// `berth-testapp twelve-factor ...` is the twelve-factor application of
// the configuration tests (twelve.go): unlike the rest it uses the AWS SDK.
package main

import (
	"os"

	"berth.dev/berth/internal/demoapp"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "twelve-factor" {
		os.Exit(twelveFactor(os.Args[2:]))
	}
	os.Exit(serve(os.Args[1:]))
}

// serve runs the demo application with args.
func serve(args []string) int { return demoapp.Main(args) }

package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/demoapp"
)

// newDemoAppCmd is the hidden `berth demo-app`: the demo application the
// image berth dev makes runs (internal/demoapp), and what the process
// runtime runs for that image.
func newDemoAppCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:                "demo-app [flags] | demo-app health [URL]",
		Short:              "Serve berth's demo application (HTTP on :8080, /health)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 || args[0] != "health" {
				fmt.Fprintf(env.Stdout, "berth demo app %s: GET / answers what this container sees, GET /health answers ok\n", version())
			}
			if code := demoapp.Main(args); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}

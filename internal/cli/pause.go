package cli

import (
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/pause"
)

// newPauseCmd is the hidden `berth pause`: the program of the Docker
// runtime's sandbox (pause) containers (internal/pause).
func newPauseCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:    pause.Command,
		Short:  "Hold a task's network namespace until SIGTERM (the Docker runtime's pause container)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := pause.Run(env.Stdout); code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
}

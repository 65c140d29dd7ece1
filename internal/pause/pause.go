// Package pause is `berth pause`, the program of the Docker runtime's
// sandbox containers: it holds a task's network namespace open and does
// nothing else.
//
// Invariants:
//   - Run prints Ready on standard output once its signal handling is in
//     place, then blocks until SIGTERM or SIGINT and returns 0.
//   - Meanwhile it reaps every child that exits: as PID 1 of its container
//     it inherits the orphans of the processes that share its namespaces.
package pause

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Command is the hidden berth subcommand that calls Run.
const Command = "pause"

// Ready is the line Run prints once a SIGTERM would end it cleanly.
const Ready = "pause: holding the sandbox until SIGTERM or SIGINT"

// Run blocks until SIGTERM or SIGINT, reaping children, and returns the
// exit code (0).
func Run(stdout io.Writer) int {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, sigchld)
	defer signal.Stop(sigs)
	fmt.Fprintln(stdout, Ready)
	reap()
	for s := range sigs {
		if s == sigchld {
			reap()
			continue
		}
		return 0
	}
	return 0
}

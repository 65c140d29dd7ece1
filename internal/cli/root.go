package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/apierr"
	bversion "berth.dev/berth/internal/version"
)

func version() string { return bversion.String() }

// Env is what a command reads from its process.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Getwd          func() (string, error)
}

// Main runs the berth command line and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.Getenv
	}
	if env.Getwd == nil {
		env.Getwd = os.Getwd
	}
	root := newRoot(&env)
	root.SetArgs(args)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(env.Stderr, "berth:", ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(env.Stderr, "berth:", describe(err))
	return 1
}

// exitError ends the process with a code.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// describe turns an SDK or berth error into one readable line.
func describe(err error) string {
	if e, ok := apierr.As(err); ok {
		return e.Code + ": " + e.Message
	}
	msg := err.Error()
	if i := strings.Index(msg, "api error "); i >= 0 {
		return msg[i+len("api error "):]
	}
	return msg
}

func newRoot(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:           "berth",
		Short:         "berth runs containers with Amazon ECS's API and behaviour, on your own machines",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newVersionCmd(env),
		newServerCmd(env),
		newDevCmd(env),
		newAgentCmd(env),
		newDemoAppCmd(env),
	)
	addClientCommands(root, env)
	return root
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print berth's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintf(env.Stdout, "berth %s\n", version())
			return nil
		},
	}
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: use debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/spf13/cobra"

	"berth.dev/berth/internal/apierr"
	bversion "berth.dev/berth/internal/version"
)

func version() string { return bversion.String() }

// buildInfo returns berth's version, the commit it was built from and
// that commit's date, "unknown" where the build did not record them.
func buildInfo() (v, commit, date string) {
	v, commit, date = version(), "unknown", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return v, commit, date
	}
	return buildInfoFrom(v, bi.Settings)
}

func buildInfoFrom(v string, settings []debug.BuildSetting) (string, string, string) {
	commit, date, dirty := "unknown", "unknown", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			commit = s.Value
		case "vcs.time":
			date = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if dirty && commit != "unknown" {
		commit += " (modified)"
	}
	if v == "" {
		v = "unknown"
	}
	return v, commit, date
}

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

// describe turns an error into the one line berth prints after "berth: ":
// an API error is "Code: message" (never the SDK's operation-error chain);
// another SDK error is its innermost cause.
func describe(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	if e, ok := apierr.As(err); ok {
		return e.Code + ": " + e.Message
	}
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		inner := oe.Err
		for {
			var re *smithyhttp.ResponseError
			var me *retry.MaxAttemptsError
			var ce *smithy.CanceledError
			switch {
			case errors.As(inner, &re):
				inner = re.Err
				continue
			case errors.As(inner, &me):
				inner = me.Err
				continue
			case errors.As(inner, &ce):
				return "canceled"
			}
			break
		}
		msg := inner.Error()
		msg = strings.TrimPrefix(msg, "request send failed, ")
		return oe.Operation() + ": " + msg
	}
	return err.Error()
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
		newLBCmd(env),
		newDemoAppCmd(env),
		newPauseCmd(env),
		newRemoveTaskNetworkCmd(env),
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
			v, commit, date := buildInfo()
			fmt.Fprintf(env.Stdout, "berth %s\ncommit %s\nbuilt %s\n", v, commit, date)
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

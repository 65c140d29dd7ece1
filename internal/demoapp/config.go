package demoapp

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// config is what the flags and the environment ask for.
type config struct {
	listen        string
	unhealthy     bool
	exitCode      int
	exitAfter     time.Duration
	exitRequested bool // --exit-code or --exit-after was given
	drain         time.Duration
	ignoreSigterm bool
	print         int
	touch         string
	logRequests   bool
}

// parseConfig reads args, then fills every flag not given on the command line
// from getenv("TESTAPP_<NAME>").
func parseConfig(args []string, getenv func(string) string) (config, error) {
	var c config
	fs := flag.NewFlagSet("berth-testapp", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	defListen := ":8080"
	if p := getenv("PORT"); p != "" {
		defListen = ":" + p
	}
	fs.StringVar(&c.listen, "listen", defListen, "address to serve on")
	fs.BoolVar(&c.unhealthy, "unhealthy", false, "GET /health answers 500")
	fs.IntVar(&c.exitCode, "exit-code", 0, "exit code")
	fs.DurationVar(&c.exitAfter, "exit-after", 0, "exit after this long")
	fs.DurationVar(&c.drain, "drain", 0, "on SIGTERM, wait this long then exit 0")
	fs.BoolVar(&c.ignoreSigterm, "ignore-sigterm", false, "never exit on SIGTERM")
	fs.IntVar(&c.print, "print", 0, "lines to write to stdout and stderr at start")
	fs.StringVar(&c.touch, "touch", "", "file to write at start")
	fs.BoolVar(&c.logRequests, "log-requests", false, "write a line to stdout for each request but /health")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		env := "TESTAPP_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := getenv(env); v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%s: %w", env, serr)
				return
			}
			given[f.Name] = true
		}
	})
	c.exitRequested = given["exit-code"] || given["exit-after"]
	return c, err
}

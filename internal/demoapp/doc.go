// Package demoapp is the program runtime tests and the demo run: a small
// HTTP server whose behaviour (exit code, exit delay, SIGTERM handling,
// output, files, health) is set by flags or environment variables, so one
// program serves the Docker and the process runtimes alike. It uses the
// standard library only and needs no shell, so it runs FROM scratch. It is
// berth-testapp (internal/e2e/testapp) and `berth demo-app`.
//
// Usage (PROG is berth-testapp or `berth demo-app`):
//
//	PROG [flags]            serve (the default; runs for ever)
//	PROG health [URL]       GET URL (default http://127.0.0.1:$PORT/health),
//	                        exit 0 on a 2xx answer, else 1
//
// Flags (each also read from the environment variable TESTAPP_<NAME>, upper
// case with '-' as '_', when the flag is not on the command line):
//
//	--listen ADDR       address to serve on (default ":$PORT", or ":8080")
//	--unhealthy         GET /health answers 500 from the start
//	--exit-code N       exit with code N (at once, or after --exit-after)
//	--exit-after D      exit after duration D (code --exit-code, default 0)
//	--drain D           on SIGTERM keep serving for D, then exit 0
//	--ignore-sigterm    never exit on SIGTERM (only SIGKILL ends it)
//	--print N           write N lines to stdout and N to stderr at start
//	--touch FILE        write FILE at start; exit 1 if that fails
//	--log-requests      write a line to stdout for each request but /health
//
// Endpoints: GET /health (200 "ok", or 500 "unhealthy"), GET / (JSON echo of
// hostname, environment, arguments, working directory, uid, gid, pid),
// /fail (health answers 500 from then on), /heal (200 again), /exit?code=N
// (exit with N after answering), GET /resolve?name=N&type=A|AAAA|SRV (looks
// N up with the program's resolver, /etc/resolv.conf: JSON {"name", "type",
// "addresses"} or {"srv": [{"target", "port", "priority", "weight"}]}; 502
// with the error's text when the lookup fails), GET /fetch?url=U (GETs U
// with a 5 s timeout and relays the status and body; 502 with the error's
// text when the request fails).
//
// Invariants: every line the program writes ends with a newline; lines
// written by --print read "stdout line I" and "stderr line I" (I from 1);
// the exit code is the one asked for, 0 after a SIGTERM drain, and 1 for a
// usage or start-up error.
package demoapp

import (
	"fmt"
	"os"
)

// Main runs the program with args (without the program name) and returns
// its exit code.
func Main(args []string) int {
	if len(args) > 0 && args[0] == "health" {
		return healthCommand(args[1:], os.Stdout, os.Stderr)
	}
	cfg, err := parseConfig(args, os.Getenv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "berth-testapp: %v\n", err)
		return 1
	}
	return run(cfg)
}

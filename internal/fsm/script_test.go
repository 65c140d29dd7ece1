package fsm_test

import (
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestScripts runs the apply/dump scripts in testdata/scripts (rewrite the
// expected output with -rewrite). They test the state machine's stateful
// rules (idempotency, preconditions, revision counters, the placement
// re-check at commit) through log entries, as a replica applies them.
//
//	apply NAME [v=N]
//	<JSON payload of command NAME, version N (default: current)>
//
// applies one entry and prints "ok: <result>" or "error: <code>: <message>".
// A payload without "now" gets the script's clock, which starts at
// 2026-01-02T03:04:05Z and moves only with:
//
//	advance DURATION
//
//	dump [TABLE...]
//
// prints the records of the tables named (all when none) as a snapshot
// holds them: "TABLE <record JSON>", one per line, in key order.
func TestScripts(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "scripts", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts in testdata/scripts: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			m := newMachine()
			now := epoch
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				switch d.Cmd {
				case "apply":
					if len(d.CmdArgs) == 0 {
						d.Fatalf(t, "apply needs a command name")
					}
					typ, ok := typeByName(d.CmdArgs[0].Key)
					if !ok {
						d.Fatalf(t, "unknown command %s", d.CmdArgs[0].Key)
					}
					version := currentVersion(typ)
					for _, a := range d.CmdArgs[1:] {
						if a.Key == "v" {
							n, err := strconv.Atoi(a.Vals[0])
							if err != nil {
								d.Fatalf(t, "v=%s: %v", a.Vals[0], err)
							}
							version = uint8(n)
						}
					}
					e, err := entry(typ, version, []byte(d.Input), now)
					if err != nil {
						d.Fatalf(t, "%v", err)
					}
					return m.apply(e) + "\n"
				case "advance":
					if len(d.CmdArgs) != 1 {
						d.Fatalf(t, "advance DURATION")
					}
					dur, err := time.ParseDuration(d.CmdArgs[0].Key)
					if err != nil {
						d.Fatalf(t, "%v", err)
					}
					now = now.Add(dur)
					return fmt.Sprintf("now %s\n", now.Format(time.RFC3339))
				case "dump":
					var tables []string
					for _, a := range d.CmdArgs {
						tables = append(tables, a.Key)
					}
					return m.dump(t, tables...)
				}
				d.Fatalf(t, "unknown command %s", d.Cmd)
				return ""
			})
		})
	}
}

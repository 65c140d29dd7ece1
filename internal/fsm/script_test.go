package fsm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/cockroachdb/datadriven"

	"berth.dev/berth/internal/shape"
	"berth.dev/berth/internal/state"
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
//	dump [TABLE...] [fields=(PATH,...)]
//
// prints the records of the tables named (all when none) as a snapshot
// holds them: "TABLE <record JSON>", one per line, in key order. With
// fields, each record prints only the members named, "TABLE PATH=VALUE
// ...", VALUE the member's JSON or "-" when the record lacks it. A PATH is
// member names joined by dots (shape.lastStatus); a number indexes an
// array, counting from its end when negative (events.-1.message); "#" is
// the length of an array, an object or a string (events.#).
//
//	history CLUSTER SERVICE
//
// prints the service's deployment history records, one line each (see
// historyLine).
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
					var tables, fields []string
					for _, a := range d.CmdArgs {
						if a.Key == "fields" {
							fields = a.Vals
							continue
						}
						tables = append(tables, a.Key)
					}
					out := m.dump(t, tables...)
					if len(fields) > 0 {
						projected, err := project(out, fields)
						if err != nil {
							d.Fatalf(t, "%v", err)
						}
						return projected
					}
					return out
				case "history":
					if len(d.CmdArgs) != 2 {
						d.Fatalf(t, "history CLUSTER SERVICE")
					}
					var out strings.Builder
					m.m.Snapshot().ServiceDeployments(d.CmdArgs[0].Key, d.CmdArgs[1].Key, func(sd *state.ServiceDeployment) bool {
						out.WriteString(historyLine(sd) + "\n")
						return true
					})
					return out.String()
				}
				d.Fatalf(t, "unknown command %s", d.Cmd)
				return ""
			})
		})
	}
}

// project keeps the members named by paths of every "TABLE <record JSON>"
// line of a dump (see TestScripts).
func project(dump string, paths []string) (string, error) {
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(dump, "\n"), "\n") {
		if line == "" {
			continue
		}
		table, record, _ := strings.Cut(line, " ")
		dec := json.NewDecoder(strings.NewReader(record))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return "", fmt.Errorf("%s record: %w", table, err)
		}
		out.WriteString(table)
		for _, path := range paths {
			fmt.Fprintf(&out, " %s=%s", path, member(v, path))
		}
		out.WriteString("\n")
	}
	return out.String(), nil
}

// member is the compact JSON of the member of v at path, or "-".
func member(v any, path string) string {
	for _, name := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			if name == "#" {
				v = len(x)
				continue
			}
			var ok bool
			if v, ok = x[name]; !ok {
				return "-"
			}
		case []any:
			if name == "#" {
				v = len(x)
				continue
			}
			i, err := strconv.Atoi(name)
			if i < 0 {
				i += len(x)
			}
			if err != nil || i < 0 || i >= len(x) {
				return "-"
			}
			v = x[i]
		case string:
			if name != "#" {
				return "-"
			}
			v = utf8.RuneCountInString(x)
		default:
			return "-"
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// historyLine is one history record: ID, status and statusReason, the
// seconds since the script's start of its updatedAt (and finishedAt or
// stoppedAt), then, for a record with revisions, its target and sources as
// revision-number requested/running/pending, its circuit breaker as status
// failures/threshold, and its rollback.
func historyLine(sd *state.ServiceDeployment) string {
	sh := sd.Shape
	at := func(ts *shape.Timestamp) string {
		if ts == nil {
			return "-"
		}
		return strconv.Itoa(int(ts.Time().Sub(epoch).Seconds()))
	}
	line := fmt.Sprintf("%s %s %q updated=%s finished=%s stopped=%s", sd.ID, sh.Status, deref(sh.StatusReason),
		at(sh.UpdatedAt), at(sh.FinishedAt), at(sh.StoppedAt))
	rev := func(s shape.ServiceRevisionSummary) string {
		arn := deref(s.Arn)
		return fmt.Sprintf("%s:%d/%d/%d", arn[strings.LastIndexByte(arn, '/')+1:], s.RequestedTaskCount, s.RunningTaskCount, s.PendingTaskCount)
	}
	if t := sh.TargetServiceRevision; t != nil {
		line += " target=" + rev(*t)
	}
	if len(sh.SourceServiceRevisions) > 0 {
		var src []string
		for _, s := range sh.SourceServiceRevisions {
			src = append(src, rev(s))
		}
		line += " sources=" + strings.Join(src, ",")
	}
	if cb := sh.DeploymentCircuitBreaker; cb != nil {
		line += fmt.Sprintf(" breaker=%s %d/%d", cb.Status, cb.FailureCount, cb.Threshold)
	}
	if rb := sh.Rollback; rb != nil {
		arn := deref(rb.ServiceRevisionArn)
		line += fmt.Sprintf(" rollback=%s at=%s %q", arn[strings.LastIndexByte(arn, '/')+1:], at(rb.StartedAt), deref(rb.Reason))
	}
	return line
}

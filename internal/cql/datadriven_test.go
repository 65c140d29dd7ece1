package cql

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
)

// TestDataDriven runs the scripts in testdata. Directives:
//
//	parse [tree]
//	<one expression per line>
//
// prints, per line, the canonical form (and with tree, the structure), or
// the input, a caret under the error position and the error.
//
//	define
//	<name> [key=value ...]
//
// replaces the instance set. Keys: connected (bool), version, id,
// registered (a registeredAt value), running (int), group (repeatable) and
// attr:NAME. Values may be Go-quoted strings.
//
//	eval
//	<one expression per line>
//
// prints, per line, the expression and the names of the matching instances.
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, "testdata", func(t *testing.T, path string) {
		var instances []*testInstance
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "parse":
				return runParse(d.Input, d.HasArg("tree"))
			case "define":
				var err error
				instances, err = defineInstances(d.Input)
				if err != nil {
					d.Fatalf(t, "%v", err)
				}
				var out strings.Builder
				for _, in := range instances {
					fmt.Fprintln(&out, in)
				}
				return out.String()
			case "eval":
				return runEval(d.Input, instances)
			}
			d.Fatalf(t, "unknown directive %q", d.Cmd)
			return ""
		})
	})
}

func lines(input string) []string {
	var out []string
	for _, l := range strings.Split(input, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func runParse(input string, tree bool) string {
	var out strings.Builder
	for _, l := range lines(input) {
		e, err := Parse(l)
		if err != nil {
			fmt.Fprintf(&out, "%s\n%s^\nerror: %v\n", l, strings.Repeat(" ", caretOffset(l, err)), err)
			continue
		}
		fmt.Fprintln(&out, e)
		if tree {
			fmt.Fprintf(&out, "  tree: %s\n", dump(e.root))
		}
	}
	return out.String()
}

// caretOffset is the column of the error position in l, for ASCII input.
func caretOffset(l string, err error) int {
	se, ok := err.(*SyntaxError)
	if !ok || se.Pos < 1 {
		return 0
	}
	return min(se.Pos-1, len(l))
}

func runEval(input string, instances []*testInstance) string {
	var out strings.Builder
	for _, l := range lines(input) {
		e, err := Parse(l)
		if err != nil {
			fmt.Fprintf(&out, "%s => error: %v\n", l, err)
			continue
		}
		var names []string
		for _, in := range instances {
			if e.Match(in) {
				names = append(names, in.name)
			}
		}
		if len(names) == 0 {
			names = []string{"(none)"}
		}
		fmt.Fprintf(&out, "%s => %s\n", l, strings.Join(names, " "))
	}
	return out.String()
}

// dump prints the tree with explicit structure: or(...), and(...), not(...)
// and comparisons as {subject op [values]} with values Go-quoted.
func dump(n node) string {
	switch n := n.(type) {
	case orNode:
		return "or(" + dumpList(n) + ")"
	case andNode:
		return "and(" + dumpList(n) + ")"
	case notNode:
		return "not(" + dump(n.x) + ")"
	case *cmpNode:
		var args []string
		for _, a := range n.args {
			args = append(args, strconv.Quote(a))
		}
		s := "{" + n.subj.String() + " " + n.op.String()
		if len(args) > 0 {
			s += " " + strings.Join(args, " ")
		}
		return s + "}"
	}
	return fmt.Sprintf("?%T", n)
}

func dumpList(xs []node) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, dump(x))
	}
	return strings.Join(parts, ", ")
}

// testInstance is an Instance defined by a test.
type testInstance struct {
	name       string
	connected  bool
	version    string
	id         string
	registered time.Time
	running    int
	groups     []string
	attrs      map[string]string
}

var _ Instance = (*testInstance)(nil)

func (in *testInstance) Attribute(name string) (string, bool) {
	v, ok := in.attrs[name]
	return v, ok
}
func (in *testInstance) AgentConnected() bool    { return in.connected }
func (in *testInstance) AgentVersion() string    { return in.version }
func (in *testInstance) EC2InstanceID() string   { return in.id }
func (in *testInstance) RegisteredAt() time.Time { return in.registered }
func (in *testInstance) RunningTasksCount() int  { return in.running }
func (in *testInstance) TaskGroups() []string    { return in.groups }

func (in *testInstance) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: connected=%t version=%q id=%q registered=%s running=%d groups=%q",
		in.name, in.connected, in.version, in.id, in.registered.UTC().Format(time.RFC3339Nano), in.running, in.groups)
	var names []string
	for k := range in.attrs {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		fmt.Fprintf(&b, " attr:%s=%q", k, in.attrs[k])
	}
	return b.String()
}

func defineInstances(input string) ([]*testInstance, error) {
	var out []*testInstance
	for _, l := range lines(input) {
		fields, err := splitFields(l)
		if err != nil {
			return nil, fmt.Errorf("line %q: %w", l, err)
		}
		in := &testInstance{name: fields[0], attrs: map[string]string{}}
		for _, f := range fields[1:] {
			k, v, ok := strings.Cut(f, "=")
			if !ok {
				return nil, fmt.Errorf("line %q: field %q is not key=value", l, f)
			}
			if strings.HasPrefix(v, `"`) {
				if v, err = strconv.Unquote(v); err != nil {
					return nil, fmt.Errorf("line %q: field %q: %w", l, f, err)
				}
			}
			if err := in.set(k, v); err != nil {
				return nil, fmt.Errorf("line %q: %w", l, err)
			}
		}
		out = append(out, in)
	}
	return out, nil
}

func (in *testInstance) set(k, v string) error {
	var err error
	switch k {
	case "connected":
		in.connected, err = strconv.ParseBool(v)
	case "version":
		in.version = v
	case "id":
		in.id = v
	case "registered":
		var ok bool
		if in.registered, ok = parseDate(v); !ok {
			err = fmt.Errorf("bad date %q", v)
		}
	case "running":
		in.running, err = strconv.Atoi(v)
	case "group":
		in.groups = append(in.groups, v)
	default:
		name, ok := strings.CutPrefix(k, "attr:")
		if !ok {
			return fmt.Errorf("unknown key %q", k)
		}
		in.attrs[name] = v
	}
	return err
}

// splitFields splits on spaces, keeping Go-quoted strings ("a b") whole.
func splitFields(l string) ([]string, error) {
	var fields []string
	var cur strings.Builder
	inQuote := false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(l):
			cur.WriteByte(c)
			i++
			cur.WriteByte(l[i])
			continue
		case c == '"':
			inQuote = !inQuote
		case c == ' ' && !inQuote:
			if cur.Len() > 0 {
				fields = append(fields, cur.String())
				cur.Reset()
			}
			continue
		}
		cur.WriteByte(c)
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if cur.Len() > 0 {
		fields = append(fields, cur.String())
	}
	if len(fields) == 0 {
		return nil, fmt.Errorf("empty line")
	}
	return fields, nil
}

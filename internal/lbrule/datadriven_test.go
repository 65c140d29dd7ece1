package lbrule

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"

	"berth.dev/berth/internal/lbconfig"
)

// TestDataDriven runs the scripts in testdata (rewrite with -rewrite).
//
//	rules
//	<one rule a line: tokens path=P,.. host=H,.. method=M,.. header=Name:V,..
//	 query=K:V,.. (K may be empty) source=CIDR,..; or "default">
//
// compiles the listener's rules.
//
//	match
//	<one request a line: method=M host=H path=P query=RAW src=IP header=Name:V ...>
//
// prints the rule each request matches ("none" when no rule does).
//
//	wildcard pattern=P [fold] [escapes]
//	<one subject a line>
//
// prints whether each subject matches.
//
//	redirect [protocol=..] [host=..] [port=..] [path=..] [query=..]
//	<one request a line: proto=HTTP host=H port=N path=P query=Q>
//
// prints the Location of each.
//
//	trace
//	<one existing header a line ("-" for none)>
//
// prints the X-Amzn-Trace-Id sent on, at a fixed time with fixed random bytes.
func TestDataDriven(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no scripts in testdata: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			var rs *Rules
			datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
				switch d.Cmd {
				case "rules":
					var rules []lbconfig.Rule
					for _, line := range lines(d.Input) {
						rules = append(rules, parseRule(t, line))
					}
					var err error
					rs, err = Compile(rules)
					if err != nil {
						return "error: " + err.Error()
					}
					return "ok"
				case "match":
					var out strings.Builder
					for _, line := range lines(d.Input) {
						req := parseRequest(t, line)
						if i := rs.Match(&req); i < 0 {
							fmt.Fprintf(&out, "%s -> none\n", line)
						} else {
							fmt.Fprintf(&out, "%s -> rule %d\n", line, i)
						}
					}
					return out.String()
				case "wildcard":
					var pat string
					fold, esc := false, false
					for _, a := range d.CmdArgs {
						switch a.Key {
						case "pattern":
							pat = a.Vals[0]
						case "fold":
							fold = true
						case "escapes":
							esc = true
						}
					}
					p := CompilePattern(pat, fold, esc)
					var out strings.Builder
					for _, s := range strings.Split(strings.TrimRight(d.Input, "\n"), "\n") {
						fmt.Fprintf(&out, "%q: %v\n", s, p.Match(s))
					}
					return out.String()
				case "redirect":
					rd := &lbconfig.Redirect{StatusCode: 301}
					for _, a := range d.CmdArgs {
						v := a.Vals[0]
						switch a.Key {
						case "protocol":
							rd.Protocol = v
						case "host":
							rd.Host = v
						case "port":
							rd.Port = v
						case "path":
							rd.Path = v
						case "query":
							rd.Query = v
						}
					}
					var out strings.Builder
					for _, line := range lines(d.Input) {
						kv := fields(line)
						port, _ := strconv.Atoi(kv["port"])
						in := RedirectInput{Protocol: kv["proto"], Host: kv["host"], Port: port, Path: kv["path"], Query: kv["query"]}
						fmt.Fprintf(&out, "%s\n", RedirectURL(rd, in))
					}
					return out.String()
				case "trace":
					now := time.Unix(1700000000, 0)
					var rnd [12]byte
					for i := range rnd {
						rnd[i] = byte(i + 1)
					}
					var out strings.Builder
					for _, line := range lines(d.Input) {
						if line == "-" {
							line = ""
						}
						fmt.Fprintf(&out, "%s\n", TraceID(line, now, rnd))
					}
					return out.String()
				}
				t.Fatalf("unknown command %s", d.Cmd)
				return ""
			})
		})
	}
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func fields(line string) map[string]string {
	m := map[string]string{}
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		m[k] = v
	}
	return m
}

func parseRule(t *testing.T, line string) lbconfig.Rule {
	if line == "default" {
		return lbconfig.Rule{IsDefault: true}
	}
	var r lbconfig.Rule
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		vals := strings.Split(v, ",")
		switch k {
		case "path":
			r.Conditions = append(r.Conditions, lbconfig.Condition{Field: lbconfig.FieldPathPattern, Values: vals})
		case "host":
			r.Conditions = append(r.Conditions, lbconfig.Condition{Field: lbconfig.FieldHostHeader, Values: vals})
		case "method":
			r.Conditions = append(r.Conditions, lbconfig.Condition{Field: lbconfig.FieldHTTPRequestMethod, Values: vals})
		case "source":
			r.Conditions = append(r.Conditions, lbconfig.Condition{Field: lbconfig.FieldSourceIP, Values: vals})
		case "header":
			name, rest, _ := strings.Cut(v, ":")
			r.Conditions = append(r.Conditions, lbconfig.Condition{Field: lbconfig.FieldHTTPHeader, HeaderName: name, Values: strings.Split(rest, ",")})
		case "query":
			c := lbconfig.Condition{Field: lbconfig.FieldQueryString}
			for _, p := range vals {
				qk, qv, _ := strings.Cut(p, ":")
				c.QueryStrings = append(c.QueryStrings, lbconfig.KeyValue{Key: qk, Value: qv})
			}
			r.Conditions = append(r.Conditions, c)
		default:
			t.Fatalf("unknown rule token %q", f)
		}
	}
	return r
}

func parseRequest(t *testing.T, line string) Request {
	req := Request{Method: "GET", Path: "/", Header: map[string][]string{}}
	for _, f := range strings.Fields(line) {
		k, v, _ := strings.Cut(f, "=")
		switch k {
		case "method":
			req.Method = v
		case "host":
			req.Host = v
		case "path":
			req.Path = v
		case "query":
			req.RawQuery = v
		case "src":
			req.SourceIP = netip.MustParseAddr(v)
		case "header":
			name, val, _ := strings.Cut(v, ":")
			req.Header[name] = append(req.Header[name], val)
		default:
			t.Fatalf("unknown request token %q", f)
		}
	}
	return req
}

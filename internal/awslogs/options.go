// Package awslogs ships a container's output to a CloudWatch Logs store the
// way ECS's awslogs log driver does, from the agent: it reads the runtime's
// log (as `berth logs` does), joins multi-line events, batches them and
// hands the batches to a Sink (the server's awslogs endpoint). A cursor file
// per container lets a restarted agent resume without duplicates.
package awslogs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Options are a container's awslogs logConfiguration options.
type Options struct {
	Group       string
	Prefix      string // awslogs-stream-prefix
	Region      string // accepted, not used: the server's store is the region's
	CreateGroup bool
	// NonBlocking is mode=non-blocking: lines are buffered (MaxBuffer
	// bytes) and the oldest dropped when shipping falls behind.
	NonBlocking bool
	MaxBuffer   int
	// Start, when set, starts a new event (awslogs-datetime-format or
	// awslogs-multiline-pattern); other lines join the event before them.
	Start *regexp.Regexp
}

// DefaultMaxBuffer is max-buffer-size's default (1m).
const DefaultMaxBuffer = 1 << 20

// ParseOptions reads the awslogs options of a logConfiguration.
func ParseOptions(o map[string]string) (Options, error) {
	out := Options{Group: o["awslogs-group"], Prefix: o["awslogs-stream-prefix"], Region: o["awslogs-region"],
		CreateGroup: o["awslogs-create-group"] == "true", MaxBuffer: DefaultMaxBuffer}
	if out.Group == "" {
		return out, fmt.Errorf("awslogs-group is required")
	}
	switch o["mode"] {
	case "", "blocking":
	case "non-blocking":
		out.NonBlocking = true
	default:
		return out, fmt.Errorf("mode %q is not blocking or non-blocking", o["mode"])
	}
	if s := o["max-buffer-size"]; s != "" {
		n, err := ParseSize(s)
		if err != nil {
			return out, fmt.Errorf("max-buffer-size: %w", err)
		}
		out.MaxBuffer = n
	}
	df, mp := o["awslogs-datetime-format"], o["awslogs-multiline-pattern"]
	switch {
	case df != "" && mp != "":
		return out, fmt.Errorf("you cannot configure both awslogs-datetime-format and awslogs-multiline-pattern")
	case df != "":
		re, err := regexp.Compile("^" + StrftimeRegexp(df))
		if err != nil {
			return out, fmt.Errorf("awslogs-datetime-format: %w", err)
		}
		out.Start = re
	case mp != "":
		re, err := regexp.Compile("^" + mp)
		if err != nil {
			return out, fmt.Errorf("awslogs-multiline-pattern: %w", err)
		}
		out.Start = re
	}
	return out, nil
}

// StreamName is ECS's stream name: prefix/container/task-id. Without a
// prefix (allowed on EC2, where Docker would name the stream after the
// container ID) berth names it container/task-id.
func StreamName(prefix, container, taskID string) string {
	if prefix == "" {
		return container + "/" + taskID
	}
	return prefix + "/" + container + "/" + taskID
}

// ParseSize reads a Docker size ("1m", "512k", "4MB", "100").
func ParseSize(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "b"), "i")
	mult := 1
	if t != "" {
		switch t[len(t)-1] {
		case 'k':
			mult = 1 << 10
		case 'm':
			mult = 1 << 20
		case 'g':
			mult = 1 << 30
		}
		if mult > 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%q is not a size", s)
	}
	return int(n * float64(mult)), nil
}

// strftime maps the directives Docker's awslogs driver accepts to regexps.
var strftime = map[byte]string{
	'a': `(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)`,
	'A': `(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)`,
	'b': `(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)`,
	'B': `(?:January|February|March|April|May|June|July|August|September|October|November|December)`,
	'c': `(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{1,2} \d{2}:\d{2}:\d{2} \d{4}`,
	'd': `(?:0[1-9]|[1,2][0-9]|3[0,1])`,
	'f': `\d{6}`,
	'H': `(?:[0,1][0-9]|2[0-3])`,
	'I': `(?:0[0-9]|1[0-2])`,
	'j': `(?:0[0-9][1-9]|[1,2][0-9][0-9]|3[0-5][0-9]|36[0-6])`,
	'L': `\.\d{3}`,
	'm': `(?:0[1-9]|1[0-2])`,
	'M': `[0-5][0-9]`,
	'p': `[A,P]M`,
	'S': `[0-5][0-9]`,
	'U': `(?:[0-4][0-9]|5[0-3])`,
	'w': `[0-6]`,
	'W': `(?:[0-4][0-9]|5[0-3])`,
	'x': `(?:0[1-9]|1[0-2])/(?:0[1-9]|[1,2][0-9]|3[0,1])/\d{2}`,
	'X': `(?:[0,1][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]`,
	'y': `\d{2}`,
	'Y': `\d{4}`,
	'z': `[+-]\d{4}`,
	'Z': `[A-Z]{1,4}T`,
	'T': `(?:[0,1][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]`,
	'%': `%`,
}

// StrftimeRegexp converts a strftime format (awslogs-datetime-format) to a
// regexp as Docker's awslogs driver does: directives become their
// patterns, other text is kept as regexp text (so brackets are written
// escaped, as in AWS's example `\[%b %d, %Y %H:%M:%S\]`).
func StrftimeRegexp(format string) string {
	var b strings.Builder
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c == '%' && i+1 < len(format) {
			if re, ok := strftime[format[i+1]]; ok {
				b.WriteString(re)
				i++
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

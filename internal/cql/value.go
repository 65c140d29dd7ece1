package cql

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// cmpNode is a single expression: subject operator [value | list].
type cmpNode struct {
	subj subject
	op   op
	args []string // values as written, without quotes

	// The values parsed for the subject; which one is filled depends on
	// subj.kind and op.
	re    *regexp.Regexp // =~ and !~
	bools []bool         // agentConnected
	vers  []version      // agentVersion
	times []time.Time    // registeredAt
	ints  []int64        // runningTasksCount
}

// addArg validates v for the comparison and appends it.
func (c *cmpNode) addArg(v string) error {
	c.args = append(c.args, v)
	if c.op.isRegex() {
		re, err := compileRegex(v)
		c.re = re
		return err
	}
	switch c.subj.kind {
	case subjAgentConnected:
		switch {
		case eqFold(v, "true"):
			c.bools = append(c.bools, true)
		case eqFold(v, "false"):
			c.bools = append(c.bools, false)
		default:
			return fmt.Errorf("agentConnected value %q must be true or false", v)
		}
	case subjAgentVersion:
		ver, ok := parseVersion(v)
		if !ok {
			return fmt.Errorf("agentVersion value %q is not a version such as 1.80.0", v)
		}
		c.vers = append(c.vers, ver)
	case subjRegisteredAt:
		t, ok := parseDate(v)
		if !ok {
			return fmt.Errorf("registeredAt value %q is not a date; use 2018-06-25, 2018-06-25T12:00:00, 2018-06-25T12:00:00Z or 2018-06-25T12:00:00+07:00", v)
		}
		c.times = append(c.times, t)
	case subjRunningTasksCount:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("runningTasksCount value %q is not an integer", v)
		}
		c.ints = append(c.ints, n)
	}
	return nil
}

// version is a dotted version: its numeric components, without leading
// zeros.
type version []string

// parseVersion parses digits { "." digits }.
func parseVersion(s string) (version, bool) {
	if s == "" {
		return nil, false
	}
	parts := strings.Split(s, ".")
	for i, p := range parts {
		if p == "" {
			return nil, false
		}
		for j := 0; j < len(p); j++ {
			if p[j] < '0' || p[j] > '9' {
				return nil, false
			}
		}
		p = strings.TrimLeft(p, "0")
		if p == "" {
			p = "0"
		}
		parts[i] = p
	}
	return version(parts), true
}

// compareVersions compares component by component as unbounded integers;
// a missing component counts as 0, so 1.2 == 1.2.0.
func compareVersions(a, b version) int {
	for i := 0; i < len(a) || i < len(b); i++ {
		x, y := "0", "0"
		if i < len(a) {
			x = a[i]
		}
		if i < len(b) {
			y = b[i]
		}
		if c := compareDigits(x, y); c != 0 {
			return c
		}
	}
	return 0
}

// compareDigits compares two digit strings without leading zeros.
func compareDigits(x, y string) int {
	if len(x) != len(y) {
		if len(x) < len(y) {
			return -1
		}
		return 1
	}
	return strings.Compare(x, y)
}

// dateLayouts are the registeredAt formats ECS documents. A value without
// a zone is UTC.
var dateLayouts = []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"}

func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseNumber parses a plain decimal number: an optional sign, digits with
// an optional fraction, and an optional exponent. Hex, underscores, "Inf"
// and "NaN" are not numbers here, nor are values out of float64's range.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// compareAttr orders attribute values: numerically when both are numbers,
// else byte-wise.
func compareAttr(a, b string) int {
	x, okx := parseNumber(a)
	y, oky := parseNumber(b)
	if okx && oky {
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

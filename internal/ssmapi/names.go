package ssmapi

import (
	"strconv"
	"strings"
)

// SSM's name rules.
const (
	maxNameLen   = 2048
	maxLevels    = 15
	maxLabelLen  = 100
	maxStdValue  = 4096
	maxAdvValue  = 8192
	arnTailParam = "parameter"
)

const nameRulesMsg = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`

func nameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' || c == '/'
}

// checkName applies SSM's rules to a parameter name (no selector): 1-2048
// characters of [a-zA-Z0-9_.-/], not beginning with aws or ssm (in any
// case, with or without a leading slash), a hierarchy ("/a/b") of at most
// 15 levels with no empty level, or a plain name without any slash.
func checkName(name string) error {
	if name == "" {
		return validationf("1 validation error detected: Value '' at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if len(name) > maxNameLen {
		return validationf("1 validation error detected: Value at 'name' failed to satisfy constraint: Member must have length less than or equal to %d", maxNameLen)
	}
	for i := 0; i < len(name); i++ {
		if !nameChar(name[i]) {
			return validationf("%s", nameRulesMsg)
		}
	}
	bare := strings.ToLower(strings.TrimPrefix(name, "/"))
	if strings.HasPrefix(bare, "aws") || strings.HasPrefix(bare, "ssm") {
		return validationf("%s", nameRulesMsg)
	}
	if !strings.Contains(name, "/") {
		return nil
	}
	if name[0] != '/' {
		return validationf("Parameter name must be a fully qualified name.")
	}
	parts := strings.Split(name[1:], "/")
	for _, p := range parts {
		if p == "" {
			return validationf("%s", nameRulesMsg)
		}
	}
	if len(parts) > maxLevels {
		return ssmErrorf("HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of %d levels.", maxLevels)
	}
	return nil
}

// selector is a parsed parameter reference: a name, and at most one of a
// version or a label (`name:3`, `name:prod`).
type selector struct {
	Name    string
	Version int64
	Label   string
}

// suffix is the selector as SSM echoes it (":3", ":prod"), or "".
func (s selector) suffix() string {
	switch {
	case s.Version != 0:
		return ":" + strconv.FormatInt(s.Version, 10)
	case s.Label != "":
		return ":" + s.Label
	}
	return ""
}

// parseSelector parses what GetParameter(s) and ResolveParameter take: a
// name or a parameter ARN (arn:PARTITION:ssm:REGION:ACCOUNT:parameter/NAME),
// optionally followed by ":VERSION" or ":LABEL". An ARN's name is given
// with the leading slash its ARN drops when the tail has a slash
// (parameter/a/b is /a/b); a tail without one is returned as it is
// (arnPlain reports it, for callers that try "/"+name too).
func parseSelector(ref string) (sel selector, arnPlain bool, err error) {
	rest := ref
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 7)
		if len(parts) < 6 || parts[2] != "ssm" || !strings.HasPrefix(parts[5], arnTailParam+"/") {
			return sel, false, validationf("%s", nameRulesMsg)
		}
		tail := strings.TrimPrefix(parts[5], arnTailParam+"/")
		if tail == "" {
			return sel, false, validationf("%s", nameRulesMsg)
		}
		if strings.Contains(tail, "/") {
			tail = "/" + tail
		} else {
			arnPlain = true
		}
		rest = tail
		if len(parts) == 7 {
			rest += ":" + parts[6]
		}
	}
	name, sfx, has := strings.Cut(rest, ":")
	sel.Name = name
	if err := checkName(name); err != nil {
		return sel, false, err
	}
	if has {
		if sfx == "" || strings.Contains(sfx, ":") {
			return sel, false, validationf("%s", nameRulesMsg)
		}
		if sfx[0] >= '0' && sfx[0] <= '9' {
			v, err := strconv.ParseInt(sfx, 10, 64)
			if err != nil || v < 1 {
				return sel, false, validationf("%s", nameRulesMsg)
			}
			sel.Version = v
		} else {
			if err := checkLabel(sfx); err != nil {
				return sel, false, validationf("%s", nameRulesMsg)
			}
			sel.Label = sfx
		}
	}
	return sel, arnPlain, nil
}

// checkLabel applies SSM's label rules: 1-100 characters of
// [a-zA-Z0-9_.-], not beginning with a number, aws or ssm.
func checkLabel(l string) error {
	if l == "" || len(l) > maxLabelLen {
		return validationf("invalid label")
	}
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c == '/' || !nameChar(c) {
			return validationf("invalid label")
		}
	}
	if l[0] >= '0' && l[0] <= '9' {
		return validationf("invalid label")
	}
	low := strings.ToLower(l)
	if strings.HasPrefix(low, "aws") || strings.HasPrefix(low, "ssm") {
		return validationf("invalid label")
	}
	return nil
}

// checkPath applies the rules of GetParametersByPath's Path: a hierarchy
// path beginning with a slash ("/" for the root), at most 15 levels.
func checkPath(p string) error {
	if p == "/" {
		return nil
	}
	if p == "" || p[0] != '/' {
		return validationf("The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash \"/\". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol \"/\". Valid example: /get/parameters2-/by1./path0_.")
	}
	return checkName(strings.TrimSuffix(p, "/"))
}

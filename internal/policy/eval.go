package policy

import (
	"path"
	"strings"
)

// AssumeRoleAction is the action a trust policy grants to AssumeRole.
const AssumeRoleAction = "sts:AssumeRole"

// Caller is who asks to assume a role, for TrustAllows.
type Caller struct {
	// Account is the caller's account ID (berth serves one).
	Account string
	// ARN is the caller's principal ARN: arn:aws:iam::ACCOUNT:root or
	// arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION; empty for a service.
	ARN string
	// RoleARN is the ARN of the role an assumed-role caller acts as
	// (arn:aws:iam::ACCOUNT:role/PATH/NAME); empty otherwise.
	RoleARN string
	// Service is a service principal ("ecs-tasks.amazonaws.com") when a
	// service asks on its own behalf; empty otherwise.
	Service string
	// Context holds the condition keys the request carries
	// (sts:ExternalId, aws:PrincipalAccount, ...).
	Context map[string]string
}

// TrustAllows reports whether the trust policy d lets c perform action:
// some Allow statement matches and no Deny statement does. A statement's
// conditions are evaluated for the string and ARN operators (with
// IfExists) against c.Context; an Allow with any other operator does not
// match, a Deny with one does (the safe reading of what berth cannot
// evaluate).
func TrustAllows(d *Document, c Caller, action string) bool {
	allowed := false
	for i := range d.Statements {
		s := &d.Statements[i]
		if !actionMatches(s, action) || !principalMatches(s, c) {
			continue
		}
		deny := s.Effect == "Deny"
		if !conditionsHold(s.Condition, c.Context, deny) {
			continue
		}
		if deny {
			return false
		}
		allowed = true
	}
	return allowed
}

func actionMatches(s *Statement, action string) bool {
	if s.Action != nil {
		return anyGlob(s.Action, action, true)
	}
	return !anyGlob(s.NotAction, action, true)
}

func anyGlob(patterns []string, v string, fold bool) bool {
	for _, p := range patterns {
		if glob(p, v, fold) {
			return true
		}
	}
	return false
}

// glob matches IAM wildcards: * any run, ? one character.
func glob(pattern, v string, fold bool) bool {
	if fold {
		pattern, v = strings.ToLower(pattern), strings.ToLower(v)
	}
	// path.Match treats '/' specially and '[' as a class: escape them.
	r := strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`)
	p := strings.ReplaceAll(r.Replace(pattern), "/", "\x00")
	ok, err := path.Match(p, strings.ReplaceAll(v, "/", "\x00"))
	return err == nil && ok
}

func principalMatches(s *Statement, c Caller) bool {
	if s.Principal != nil {
		return principalIn(s.Principal, c)
	}
	if s.NotPrincipal != nil {
		return !principalIn(s.NotPrincipal, c)
	}
	return false
}

func principalIn(p *Principal, c Caller) bool {
	if p.Any {
		return true
	}
	for _, v := range p.Kinds[KindService] {
		if c.Service != "" && (v == "*" || v == c.Service) {
			return true
		}
	}
	if c.ARN == "" {
		return false
	}
	for _, v := range p.Kinds[KindAWS] {
		switch {
		case v == "*":
			return true
		case isAccountID(v), strings.HasSuffix(v, ":root") && accountOf(v) != "":
			// The account principal: any principal of the account (IAM
			// then asks the caller's permission policies, which berth
			// does not enforce).
			if accountID(v) == c.Account {
				return true
			}
		case v == c.ARN, c.RoleARN != "" && v == c.RoleARN:
			return true
		}
	}
	return false
}

func accountID(v string) string {
	if isAccountID(v) {
		return v
	}
	return accountOf(v)
}

// accountOf returns the account of arn:PARTITION:iam::ACCOUNT:root.
func accountOf(v string) string {
	parts := strings.SplitN(v, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[5] != "root" || !isAccountID(parts[4]) {
		return ""
	}
	return parts[4]
}

func conditionsHold(cond map[string]map[string][]string, ctx map[string]string, deny bool) bool {
	for op, keys := range cond {
		for key, vals := range keys {
			ok, known := evalCondition(op, key, vals, ctx)
			if !known {
				return deny
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

func evalCondition(op, key string, vals []string, ctx map[string]string) (ok, known bool) {
	ifExists := strings.HasSuffix(op, "IfExists")
	base := strings.TrimSuffix(op, "IfExists")
	var have string
	present := false
	for k, v := range ctx {
		if strings.EqualFold(k, key) {
			have, present = v, true
		}
	}
	if base == "Null" {
		want := len(vals) == 1 && vals[0] == "true"
		return want == !present, true
	}
	if !present {
		switch base {
		case "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "ArnNotEquals", "ArnNotLike":
			return true, true
		}
		return ifExists, true
	}
	match := func(f func(p string) bool) bool {
		for _, v := range vals {
			if f(v) {
				return true
			}
		}
		return false
	}
	switch base {
	case "StringEquals", "ArnEquals":
		return match(func(p string) bool { return p == have }), true
	case "StringNotEquals", "ArnNotEquals":
		return !match(func(p string) bool { return p == have }), true
	case "StringEqualsIgnoreCase":
		return match(func(p string) bool { return strings.EqualFold(p, have) }), true
	case "StringNotEqualsIgnoreCase":
		return !match(func(p string) bool { return strings.EqualFold(p, have) }), true
	case "StringLike", "ArnLike":
		return match(func(p string) bool { return glob(p, have, false) }), true
	case "StringNotLike", "ArnNotLike":
		return !match(func(p string) bool { return glob(p, have, false) }), true
	}
	return false, false
}

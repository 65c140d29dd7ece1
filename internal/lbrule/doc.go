// Package lbrule evaluates ELBv2 listener rules: it decides, for a view of
// one HTTP request, which rule of a listener applies, which target group a
// weighted forward picks, where a redirect points and what the
// X-Amzn-Trace-Id header becomes.
//
// Contract: the package is pure. It does no I/O and reads no clock or
// randomness; whatever varies (a random number, the time, random bytes)
// is an argument. Rules are compiled once per configuration (Compile) and
// evaluated on every request (Rules.Match); matching allocates only to
// decode percent-escaped query strings.
//
// Invariants:
//   - a condition's values are OR-ed, a rule's conditions AND-ed, rules are
//     tried in order and the first match wins; the default rule (no
//     conditions) always matches;
//   - wildcard patterns: '*' matches any run of characters (also none), '?'
//     exactly one; a pattern without wildcards matches exactly itself
//     (case-insensitively where ELB says so: host, header values, query);
//   - path patterns are case-sensitive and see the path only, never the query;
//   - a target group of weight 0 is never chosen; otherwise a group is
//     chosen with probability weight/sum of weights.
package lbrule

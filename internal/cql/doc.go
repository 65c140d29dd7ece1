// Package cql parses and evaluates the Amazon ECS cluster query language:
// the expressions of memberOf placement constraints and of the
// ListContainerInstances filter.
//
// It owns the grammar, the validation of expressions, their canonical
// printing and their evaluation against one container instance. It does no
// I/O, keeps no state and reads no clock. An *Expr is immutable and safe for
// concurrent use; Parse is the only way to make one.
//
// # Grammar
//
//	expr       = and { ("or" | "||") and }
//	and        = unary { ("and" | "&&") unary }
//	unary      = ("not" | "!") unary | "(" expr ")" | comparison
//	comparison = subject ("exists" | "!exists" | "not_exists")
//	           | subject binop value
//	           | subject ("in" | "!in" | "not_in") "[" value { "," value } "]"
//	subject    = "agentConnected" | "agentVersion" | "ec2InstanceId"
//	           | "registeredAt" | "runningTasksCount" | "task:group"
//	           | "attribute:" name
//	binop      = "==" | "equals" | "!=" | "not_equals"
//	           | ">" | "greater_than" | ">=" | "greater_than_equal"
//	           | "<" | "less_than" | "<=" | "less_than_equal"
//	           | "=~" | "matches" | "!~" | "not_matches"
//	value      = bare | "'" any-but-' "'" | '"' any-but-" '"'
//
// not binds tighter than and, which binds tighter than or. Tokens are
// separated by ASCII white space, which is optional where a symbol ends a
// token (runningTasksCount>1, in[a,b]). A bare value runs up to white
// space, a parenthesis, a quote or the sequence && or ||; inside a list it
// also stops at , [ and ]. So t2.*, a|b, [tm]5.* and
// 2018-06-25T12:00:00+07:00 need no quotes, while values with spaces or
// parentheses (regular expressions with groups, '(?i)x') must be quoted.
// Outside lists only =~ and !~ accept a bare value starting with '['.
// Quoted values have no escapes and may be empty. An attribute name is 1 to
// 128 letters, digits and - _ . / \ (ECS's rule). Expressions are at most
// MaxLength characters.
//
// ECS says a single expression cannot contain parentheses and documents
// not(task:group == database), so parentheses may group any expression,
// including one comparison, but may not appear inside a comparison (around
// a subject or a bare value).
//
// # Validity
//
// Operators allowed per subject (anything else is a syntax error):
//
//	agentConnected     ==  !=  in  !in  =~  !~
//	ec2InstanceId      ==  !=  in  !in  =~  !~
//	task:group         ==  !=  in  !in  =~  !~  exists  !exists
//	agentVersion       ==  !=  >  >=  <  <=
//	registeredAt       ==  !=  >  >=  <  <=
//	runningTasksCount  ==  !=  >  >=  <  <=
//	attribute:NAME     all of them
//
// Values are checked when parsed: agentConnected takes true or false,
// agentVersion a dotted version (1.80.0), runningTasksCount a decimal
// integer, and registeredAt one of 2018-06-25, 2018-06-25T12:00:00,
// 2018-06-25T12:00:00Z or 2018-06-25T12:00:00+07:00 (no zone means UTC;
// fractional seconds are accepted). In lists, every element is checked.
//
// # Semantics
//
//   - Case: keywords, operator words, subject names and the attribute:
//     prefix are case-insensitive (AND, Not_In, RUNNINGTASKSCOUNT);
//     attribute names and values are case-sensitive, except the true and
//     false of agentConnected.
//   - Negation: !=, !in, !~ and !exists are exactly not(==), not(in),
//     not(=~) and not(exists), for every subject.
//   - Missing attribute: every positive operator (==, in, =~, exists, >,
//     >=, <, <=) is false, so every negative one is true.
//   - == and in compare strings exactly, except: agentConnected compares
//     booleans, agentVersion versions, registeredAt instants and
//     runningTasksCount integers.
//   - agentVersion orders component by component as integers, a missing
//     component counting as 0 (1.10.0 > 1.9.0, 1.2 == 1.2.0). An instance
//     whose version is not a dotted version behaves like a missing
//     attribute.
//   - registeredAt compares instants; a date alone is midnight UTC, so
//     registeredAt == 2018-06-25 matches only that instant.
//   - attribute:NAME with >, >=, <, <= compares as float64 numbers when
//     both sides are plain decimal numbers (4, -1.5, 2e3), else as bytes.
//   - task:group looks at the groups of the tasks on the instance (empty
//     groups ignored): ==, in and =~ are true when some group satisfies
//     them, exists when there is any group.
//   - =~ and !~ take a Java regular expression matched against the whole
//     value, as Java's Matcher.matches does. It runs on Go's RE2 engine:
//     \Q...\E, \0 octal, \uhhhh, \e and \cX are translated; backreferences,
//     lookaround, atomic groups, possessive quantifiers, nested classes,
//     class intersection, the U flag and \G \R \X \Z \h \H \v \V are
//     rejected, as are expressions larger than 10000 instructions once
//     {n,m} repetitions are expanded. agentConnected matches against
//     "true" or "false".
//
// # Canonical form
//
// Expr.String prints symbol operators, the words and, or and not, canonical
// subject names, single spaces, "not (x)" for every negation, and only the
// parentheses the structure needs: and and or are associative, so nested
// runs of either are flattened when parsed. Values are printed as written,
// bare when they read back unchanged and quoted otherwise. Parse of the
// canonical form yields an equal expression (the canonical form can be
// longer than the input, so in rare cases longer than MaxLength).
//
// Errors are *SyntaxError values carrying the 1-based character position
// of the problem and a message meant for API users.
package cql

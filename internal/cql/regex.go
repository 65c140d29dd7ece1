package cql

import (
	"errors"
	"fmt"
	"regexp"
	"regexp/syntax"
	"strconv"
	"strings"
	"unicode/utf8"
)

// compileRegex compiles a Java regular expression (java.util.regex.Pattern
// syntax) with Go's RE2 engine so that it matches whole values only, like
// Java's Matcher.matches.
func compileRegex(java string) (*regexp.Regexp, error) {
	goRE, err := translateRegex(java)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", java, err)
	}
	// Parse the translation alone first: it reports errors in the user's
	// terms, and once it is valid on its own, wrapping it in a group cannot
	// change its meaning.
	tree, err := syntax.Parse(goRE, syntax.Perl)
	if err != nil {
		var se *syntax.Error
		if errors.As(err, &se) {
			return nil, fmt.Errorf("invalid regular expression %q: %s: %q", java, se.Code, se.Expr)
		}
		return nil, fmt.Errorf("invalid regular expression %q: %v", java, err)
	}
	if regexSize(tree) > maxRegexSize {
		return nil, fmt.Errorf("invalid regular expression %q: it is too large once repetitions are expanded", java)
	}
	re, err := regexp.Compile(`\A(?:` + goRE + `)\z`)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression %q: %v", java, err)
	}
	return re, nil
}

// maxRegexSize bounds the size of a regular expression once repetitions
// are expanded, so that one expression cannot cost seconds to compile
// (.{999} repeated 200 times fits in MaxLength).
const maxRegexSize = 10000

// regexSize estimates the compiled size of re with {n,m} expanded,
// stopping early once it exceeds maxRegexSize.
func regexSize(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpRepeat:
		n := re.Max
		if n < 0 {
			n = re.Min
		}
		return min(max(n, 1)*regexSize(re.Sub[0]), maxRegexSize+1)
	}
	size := 1
	for _, sub := range re.Sub {
		size = min(size+regexSize(sub), maxRegexSize+1)
	}
	return size
}

// translateRegex rewrites Java-only spellings that RE2 can express
// (\Q...\E inside classes, \0 octal, \uhhhh, \e, \cX) and rejects Java
// constructs RE2 cannot express or would read differently. Everything else
// is passed through for Go's parser to accept or reject.
func translateRegex(s string) (string, error) {
	var b strings.Builder
	inClass := false
	for i := 0; i < len(s); {
		c := s[i]
		if c == '\\' {
			n, err := translateEscape(&b, s, i)
			if err != nil {
				return "", err
			}
			i = n
			continue
		}
		if inClass {
			switch {
			case c == '[':
				return "", errors.New("nested character classes such as [a-z[0-9]] are not supported")
			case c == '&' && i+1 < len(s) && s[i+1] == '&':
				return "", errors.New("character class intersection (&&) is not supported")
			case c == ']':
				inClass = false
			}
			b.WriteByte(c)
			i++
			continue
		}
		switch c {
		case '[':
			inClass = true
			b.WriteByte(c)
			i++
			if i < len(s) && s[i] == '^' {
				b.WriteByte('^')
				i++
			}
			if i < len(s) && s[i] == ']' { // a leading ] is literal in both
				b.WriteByte(']')
				i++
			}
			continue
		case '(':
			if err := checkGroup(s[i:]); err != nil {
				return "", err
			}
		case '*', '+', '?':
			if i+1 < len(s) && s[i+1] == '+' {
				return "", errors.New("possessive quantifiers such as a*+ are not supported")
			}
		case '{':
			if j := repetitionEnd(s, i); j > 0 && j < len(s) && s[j] == '+' {
				return "", errors.New("possessive quantifiers such as a{2}+ are not supported")
			}
		}
		b.WriteByte(c)
		i++
	}
	return b.String(), nil
}

// translateEscape writes the escape sequence at s[i] (a backslash) and
// returns the index after it.
func translateEscape(b *strings.Builder, s string, i int) (int, error) {
	if i+1 == len(s) {
		b.WriteByte('\\') // RE2 reports the trailing backslash
		return i + 1, nil
	}
	switch n := s[i+1]; {
	case n == 'Q':
		lit, next := s[i+2:], len(s)
		if j := strings.Index(lit, `\E`); j >= 0 {
			lit, next = lit[:j], i+2+j+2
		}
		writeLiteral(b, lit)
		return next, nil
	case n >= '1' && n <= '9':
		return 0, fmt.Errorf("backreferences such as \\%c are not supported", n)
	case n == 'k' && i+2 < len(s) && s[i+2] == '<':
		return 0, errors.New("named backreferences such as \\k<name> are not supported")
	case n == '0':
		j, v, maxDigits := i+2, 0, 2
		if j < len(s) && s[j] >= '0' && s[j] <= '3' {
			maxDigits = 3
		}
		for start := j; j < len(s) && j-start < maxDigits && s[j] >= '0' && s[j] <= '7'; j++ {
			v = v*8 + int(s[j]-'0')
		}
		if j == i+2 {
			return 0, errors.New("octal escape \\0 must be followed by octal digits")
		}
		fmt.Fprintf(b, `\x{%x}`, v)
		return j, nil
	case n == 'u':
		if i+6 > len(s) {
			return 0, errors.New("unicode escape \\u must be followed by 4 hex digits")
		}
		v, err := strconv.ParseUint(s[i+2:i+6], 16, 32)
		if err != nil {
			return 0, errors.New("unicode escape \\u must be followed by 4 hex digits")
		}
		fmt.Fprintf(b, `\x{%x}`, v)
		return i + 6, nil
	case n == 'e':
		b.WriteString(`\x{1b}`)
		return i + 2, nil
	case n == 'c':
		if i+2 >= len(s) || s[i+2] >= utf8.RuneSelf {
			return 0, errors.New("control escape \\c must be followed by an ASCII character")
		}
		fmt.Fprintf(b, `\x{%x}`, s[i+2]^64)
		return i + 3, nil
	case strings.IndexByte("GRXZhHvV", n) >= 0:
		return 0, fmt.Errorf("\\%c is not supported", n)
	}
	_, size := utf8.DecodeRuneInString(s[i+1:])
	b.WriteString(s[i : i+1+size])
	return i + 1 + size, nil
}

// checkGroup rejects group constructs RE2 lacks. s starts with '('.
func checkGroup(s string) error {
	rest, ok := strings.CutPrefix(s, "(?")
	if !ok {
		return nil
	}
	switch {
	case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"):
		return errors.New("lookahead (?= and (?! is not supported")
	case strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
		return errors.New("lookbehind (?<= and (?<! is not supported")
	case strings.HasPrefix(rest, ">"):
		return errors.New("atomic groups (?> are not supported")
	}
	// Inline flags: Java's U means UNICODE_CHARACTER_CLASS, Go's means
	// ungreedy. Other Java-only flags (x, d, u, c) fail in Go's parser.
	for j := 0; j < len(rest) && (rest[j] == '-' || rest[j] >= 'a' && rest[j] <= 'z' || rest[j] >= 'A' && rest[j] <= 'Z'); j++ {
		if rest[j] == 'U' {
			return errors.New("flag U is not supported")
		}
	}
	return nil
}

// repetitionEnd returns the index after a counted repetition {n}, {n,} or
// {n,m} starting at s[i], or -1.
func repetitionEnd(s string, i int) int {
	j := i + 1
	digits := func() int {
		k := j
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j - k
	}
	if digits() == 0 {
		return -1
	}
	if j < len(s) && s[j] == ',' {
		j++
		digits()
	}
	if j < len(s) && s[j] == '}' {
		return j + 1
	}
	return -1
}

// writeLiteral writes lit so that it matches itself, inside or outside a
// character class: every ASCII punctuation character is escaped.
func writeLiteral(b *strings.Builder, lit string) {
	for i := 0; i < len(lit); i++ {
		c := lit[i]
		if c < utf8.RuneSelf && (c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~') {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
}

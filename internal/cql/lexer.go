package cql

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// The scanner is driven by the parser, because what a token is depends on
// where it stands: after an operator, "t2.*" or "2018-06-25T12:00:00+07:00"
// is one bare value, while elsewhere only word characters form a token.

// scanner walks the expression. pos is a byte offset into src.
type scanner struct {
	src string
	pos int
}

// isSpace reports whether c separates tokens. Only ASCII white space does.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// isWordChar reports whether c can be part of a subject or keyword.
func isWordChar(c byte) bool {
	return isAttrNameChar(c) || c == ':'
}

// isDelim reports whether c ends a bare value in a list. Printed bare
// values contain none of these.
func isDelim(c byte) bool {
	switch c {
	case '(', ')', '[', ']', ',', '\'', '"':
		return true
	}
	return isSpace(c)
}

// endsBare reports whether c ends a bare value outside a list, where
// brackets and commas are allowed, so that =~ [tm]5.* needs no quotes.
func endsBare(c byte) bool {
	switch c {
	case '(', ')', '\'', '"':
		return true
	}
	return isSpace(c)
}

func (s *scanner) eof() bool { return s.pos >= len(s.src) }

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) && isSpace(s.src[s.pos]) {
		s.pos++
	}
}

// peekWord returns the run of word characters at pos without consuming it.
func (s *scanner) peekWord() string {
	i := s.pos
	for i < len(s.src) && isWordChar(s.src[i]) {
		i++
	}
	return s.src[s.pos:i]
}

// acceptKeyword consumes the word kw (any case) or the symbol sym, if one of
// them is next.
func (s *scanner) acceptKeyword(kw, sym string) bool {
	s.skipSpace()
	if strings.HasPrefix(s.src[s.pos:], sym) {
		s.pos += len(sym)
		return true
	}
	if w := s.peekWord(); eqFold(w, kw) {
		s.pos += len(w)
		return true
	}
	return false
}

// symbolOps are the symbol operators, longer before shorter.
var symbolOps = []struct {
	sym string
	op  op
}{
	{"==", opEq}, {"!=", opNe}, {">=", opGe}, {"<=", opLe},
	{"=~", opMatches}, {"!~", opNotMatches}, {">", opGt}, {"<", opLt},
}

// scanOperator consumes a comparison operator in symbol or word form.
func (s *scanner) scanOperator() (op, bool) {
	rest := s.src[s.pos:]
	for _, w := range []struct {
		sym string
		op  op
	}{{"!exists", opNotExists}, {"!in", opNotIn}} {
		if len(rest) >= len(w.sym) && eqFold(rest[:len(w.sym)], w.sym) &&
			(len(rest) == len(w.sym) || !isWordChar(rest[len(w.sym)])) {
			s.pos += len(w.sym)
			return w.op, true
		}
	}
	for _, so := range symbolOps {
		if strings.HasPrefix(rest, so.sym) {
			s.pos += len(so.sym)
			return so.op, true
		}
	}
	w := s.peekWord()
	if o, ok := opWords[strings.ToLower(w)]; ok {
		s.pos += len(w)
		return o, true
	}
	return 0, false
}

// scanValue consumes a quoted or bare value at pos. It returns the value and
// a message when the quote is not closed; an empty bare value consumes
// nothing.
func (s *scanner) scanValue(inList bool) (string, string) {
	if s.eof() {
		return "", ""
	}
	if q := s.src[s.pos]; q == '\'' || q == '"' {
		end := strings.IndexByte(s.src[s.pos+1:], q)
		if end < 0 {
			return "", "unterminated quoted value: missing closing " + string(q)
		}
		v := s.src[s.pos+1 : s.pos+1+end]
		s.pos += end + 2
		return v, ""
	}
	i := s.pos
	ends := endsBare
	if inList {
		ends = isDelim
	}
	for i < len(s.src) && !ends(s.src[i]) && !isBoolSymbolAt(s.src, i) {
		i++
	}
	v := s.src[s.pos:i]
	s.pos = i
	return v, ""
}

// isBoolSymbolAt reports whether && or || starts at src[i].
func isBoolSymbolAt(src string, i int) bool {
	return i+1 < len(src) && (src[i] == '&' || src[i] == '|') && src[i+1] == src[i]
}

// isBare reports whether v reads back as the same bare value.
func isBare(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if isDelim(v[i]) || isBoolSymbolAt(v, i) {
			return false
		}
	}
	return true
}

// maxFound bounds how much input an error message quotes.
const maxFound = 24

// found describes the input at pos for error messages: the token-like run
// of characters there, or the single character.
func (s *scanner) found() string {
	if s.eof() {
		return "end of expression"
	}
	if isBoolSymbolAt(s.src, s.pos) {
		return strconv.Quote(s.src[s.pos : s.pos+2])
	}
	i := s.pos
	for i < len(s.src) && !isDelim(s.src[i]) && !isBoolSymbolAt(s.src, i) && i-s.pos < maxFound {
		i++
	}
	if i > s.pos {
		for i < len(s.src) && !utf8.RuneStart(s.src[i]) { // end on a rune boundary
			i++
		}
		return strconv.Quote(s.src[s.pos:i])
	}
	r, n := utf8.DecodeRuneInString(s.src[s.pos:])
	if r == utf8.RuneError && n == 1 {
		return strconv.Quote(s.src[s.pos : s.pos+1])
	}
	return strconv.Quote(string(r))
}

// errAt builds a SyntaxError for the byte offset off.
func (s *scanner) errAt(off int, msg string) *SyntaxError {
	return &SyntaxError{Pos: utf8.RuneCountInString(s.src[:off]) + 1, Msg: msg}
}

// eqFold is a case-insensitive comparison of ASCII letters only, so that
// no Unicode folding (such as 'ſ' to 's') lets odd spellings through.
func eqFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

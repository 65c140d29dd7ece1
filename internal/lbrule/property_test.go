package lbrule

import (
	"math"
	"regexp"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// A pattern without wildcards matches exactly itself.
func TestPropLiteralMatchesItself(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := rapid.StringMatching(`[a-zA-Z0-9/._-]{0,16}`).Draw(t, "p")
		s := rapid.StringMatching(`[a-zA-Z0-9/._-]{0,16}`).Draw(t, "s")
		cp := CompilePattern(p, false, false)
		if !cp.Match(p) {
			t.Fatalf("%q does not match itself", p)
		}
		if cp.Match(s) != (s == p) {
			t.Fatalf("%q vs %q", p, s)
		}
		fp := CompilePattern(p, true, false)
		if fp.Match(s) != strings.EqualFold(s, p) {
			t.Fatalf("fold %q vs %q", p, s)
		}
	})
}

// '*' matches everything; the matcher agrees with an equivalent regexp.
func TestPropWildcardAgreesWithRegexp(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := rapid.StringMatching(`[ab*?]{0,8}`).Draw(t, "p")
		s := rapid.StringMatching(`[ab]{0,10}`).Draw(t, "s")
		var re strings.Builder
		re.WriteString("^")
		for _, c := range p {
			switch c {
			case '*':
				re.WriteString(".*")
			case '?':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(c)))
			}
		}
		re.WriteString("$")
		want := regexp.MustCompile(re.String()).MatchString(s)
		cp := CompilePattern(p, false, false)
		if got := cp.Match(s); got != want {
			t.Fatalf("pattern %q subject %q: got %v want %v", p, s, got, want)
		}
		star := CompilePattern("*", false, false)
		if !star.Match(s) {
			t.Fatalf("* does not match %q", s)
		}
	})
}

// Weight 0 is never chosen and every r maps into a positive weight.
func TestPropWeightZeroNeverChosen(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ws := rapid.SliceOfN(rapid.IntRange(0, 999), 1, 5).Draw(t, "weights")
		r := rapid.Uint64().Draw(t, "r")
		i := ChooseWeighted(ws, r)
		total := 0
		for _, w := range ws {
			total += w
		}
		if total == 0 {
			if i != -1 {
				t.Fatalf("all zero weights chose %d", i)
			}
			return
		}
		if i < 0 || ws[i] == 0 {
			t.Fatalf("weights %v r %d chose %d", ws, r, i)
		}
	})
}

// Over every residue modulo the total, each index is chosen exactly
// weight times: the distribution follows the weights.
func TestPropChoiceDistribution(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ws := rapid.SliceOfN(rapid.IntRange(0, 50), 1, 5).Draw(t, "weights")
		total := 0
		for _, w := range ws {
			total += w
		}
		if total == 0 {
			return
		}
		counts := make([]int, len(ws))
		base := rapid.Uint64Range(0, math.MaxUint64/2).Draw(t, "base")
		base -= base % uint64(total)
		for r := 0; r < total; r++ {
			counts[ChooseWeighted(ws, base+uint64(r))]++
		}
		for i := range ws {
			if counts[i] != ws[i] {
				t.Fatalf("weights %v counts %v", ws, counts)
			}
		}
	})
}

func FuzzWildcard(f *testing.F) {
	f.Add("a*b?c", "axxbyc", false)
	f.Add("*.example.com", "WWW.EXAMPLE.COM", true)
	f.Add("**?*", "", false)
	f.Fuzz(func(t *testing.T, p, s string, fold bool) {
		if len(p) > 64 || len(s) > 256 {
			return
		}
		cp := CompilePattern(p, fold, false)
		got := cp.Match(s)
		var re strings.Builder
		if fold {
			re.WriteString("(?is)^")
		} else {
			re.WriteString("(?s)^")
		}
		for i := 0; i < len(p); i++ {
			switch p[i] {
			case '*':
				re.WriteString(`[\x00-\xff]*`)
			case '?':
				re.WriteString(`[\x00-\xff]`)
			default:
				re.WriteString(`\x` + hex2(p[i]))
			}
		}
		re.WriteString("$")
		if !isASCII(p) || !isASCII(s) {
			return // regexp works on runes; the matcher on bytes
		}
		want := regexp.MustCompile(re.String()).MatchString(s)
		if got != want {
			t.Fatalf("pattern %q subject %q fold %v: got %v want %v", p, s, fold, got, want)
		}
	})
}

func hex2(b byte) string {
	const h = "0123456789abcdef"
	return string([]byte{h[b>>4], h[b&15]})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

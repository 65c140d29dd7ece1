package main

import (
	"context"
	"slices"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil || o.lines != 1_000_000 || o.batch != 10_000 || o.repeat != 3 {
		t.Fatalf("defaults %+v %v", o, err)
	}
	for _, bad := range [][]string{{"--batch", "10001"}, {"--lines", "0"}, {"--repeat", "0"}, {"extra"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("%s accepted", strings.Join(bad, " "))
		}
	}
}

// A small round runs end to end and finds the error lines.
func TestSmallRound(t *testing.T) {
	o, _ := parseFlags([]string{"--lines", "5000", "--batch", "1000", "--filters", "1", "--data-root", t.TempDir()})
	r, err := runRound(context.Background(), o, false)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{5, 5, 5, 5, 5, 5, 80, 20, 5}; !slices.Equal(r.matches, want) || r.linesPerS <= 0 {
		t.Fatalf("%+v", r)
	}
}

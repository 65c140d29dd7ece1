package ecsapi

import (
	"math/big"
	"regexp"
	"testing"
)

// TestDeploymentID checks that deployment IDs are ecs-svc/ and 19 digits
// over the whole random range, its ends included (the upper part of the
// range once overflowed an int64 into a negative number).
func TestDeploymentID(t *testing.T) {
	pattern := regexp.MustCompile(`^ecs-svc/[1-9]\d{18}$`)
	last := new(big.Int).Sub(big.NewInt(9e18), big.NewInt(1))
	for _, n := range []*big.Int{big.NewInt(0), big.NewInt(1), big.NewInt(8_223_372_036_854_775_807), big.NewInt(8_223_372_036_854_775_808), last} {
		if id := deploymentID(n); !pattern.MatchString(id) {
			t.Errorf("deploymentID(%s) = %q", n, id)
		}
	}
	if got, want := deploymentID(last), "ecs-svc/9999999999999999999"; got != want {
		t.Errorf("deploymentID(9e18-1) = %q, want %q", got, want)
	}
	seen := map[string]bool{}
	for range 10000 {
		id := newDeploymentID()
		if !pattern.MatchString(id) || seen[id] {
			t.Fatalf("newDeploymentID() = %q (seen before: %v)", id, seen[id])
		}
		seen[id] = true
	}
}

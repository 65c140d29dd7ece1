package driver

import (
	"slices"
	"testing"
)

func TestMergeEnv(t *testing.T) {
	env := []string{"A=1", "S=env", "B=2"}
	got := MergeEnv(env, []string{"S=secret", "T=t"})
	if want := []string{"A=1", "B=2", "S=secret", "T=t"}; !slices.Equal(got, want) {
		t.Fatalf("MergeEnv = %q, want %q", got, want)
	}
	if !slices.Equal(env, []string{"A=1", "S=env", "B=2"}) {
		t.Fatalf("MergeEnv changed its input: %q", env)
	}
	if got := MergeEnv(env, nil); !slices.Equal(got, env) {
		t.Fatalf("MergeEnv without secrets = %q", got)
	}
}

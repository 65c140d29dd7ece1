package scheduler

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

func TestProvidersBaseThenWeights(t *testing.T) {
	strategy := []ProviderShare{{Provider: "FARGATE", Base: 2, Weight: 1}, {Provider: "FARGATE_SPOT", Weight: 4}}
	got := Providers(strategy, nil, 7)
	want := []string{"FARGATE", "FARGATE", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE_SPOT", "FARGATE", "FARGATE_SPOT"}
	// After the base of 2: (0+1)/1 for FARGATE against (0+1)/4 for SPOT:
	// SPOT while (k+1)/4 < 1, then the tie at 4/4 goes to FARGATE.
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	// Existing tasks count: with 1 on FARGATE already, one more meets the base.
	if got := Providers(strategy, map[string]int{"FARGATE": 1}, 1); !slices.Equal(got, []string{"FARGATE"}) {
		t.Fatalf("base not met: got %v", got)
	}
	if got := Providers([]ProviderShare{{Provider: "A", Weight: 0}}, nil, 1); got != nil {
		t.Fatalf("all weights 0: got %v, want nil", got)
	}
	if got := Providers([]ProviderShare{{Provider: "A", Base: 1}, {Provider: "B"}}, nil, 2); got != nil {
		t.Fatalf("base met and weights 0: got %v, want nil", got)
	}
}

// Over any number of tasks the split follows the weights: after the base,
// each provider gets at least the whole part of its share
// weight/sum(weights), and a provider of weight 0 gets no task beyond its
// base.
func TestProvidersProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := rapid.IntRange(1, 4).Draw(t, "providers")
		var strategy []ProviderShare
		baseAt := rapid.IntRange(-1, k-1).Draw(t, "base-at")
		total := 0
		for i := range k {
			s := ProviderShare{Provider: string(rune('A' + i)), Weight: rapid.IntRange(0, 5).Draw(t, "weight")}
			if i == baseAt {
				s.Base = rapid.IntRange(0, 5).Draw(t, "base")
			}
			total += s.Weight
			strategy = append(strategy, s)
		}
		n := rapid.IntRange(0, 60).Draw(t, "n")
		got := Providers(strategy, nil, n)
		base := 0
		if baseAt >= 0 {
			base = strategy[baseAt].Base
		}
		if total == 0 {
			if n > base && got != nil {
				t.Fatalf("no weight: got %v for %d tasks", got, n)
			}
			return
		}
		if len(got) != n {
			t.Fatalf("got %d providers for %d tasks", len(got), n)
		}
		count := map[string]int{}
		for _, p := range got {
			count[p]++
		}
		rest := n - min(n, base)
		for i, s := range strategy {
			c := count[s.Provider]
			if i == baseAt {
				c -= min(c, base)
			}
			if s.Weight == 0 && c > 0 {
				t.Fatalf("weight-0 provider %s got %d tasks beyond its base", s.Provider, c)
			}
			if floor := rest * s.Weight / total; c < floor {
				t.Fatalf("provider %s: %d tasks beyond base, want at least %d (strategy %+v, n %d, got %v)", s.Provider, c, floor, strategy, n, got)
			}
		}
	})
}

package scheduler

// ProviderShare is one item of a capacity provider strategy.
type ProviderShare struct {
	Provider string
	Base     int
	Weight   int
}

// Providers chooses the capacity provider of each of n new tasks under a
// strategy, given how many tasks each provider already runs for the same
// service or request (counts; nil for none). ECS's rule: the provider with
// a base gets tasks until it runs base of them; then tasks are split by
// weight, counting only tasks beyond a provider's base: each goes to the
// provider whose (beyond+1)/weight is lowest (ties to the earlier item;
// D'Hondt's rule, which never gives a provider fewer than the whole part
// of its share), so weights 1:4 give one task on the first provider per
// four on the second. Providers of weight 0 get tasks only for their base.
// It returns nil when no provider can take a task (all weights 0 and every
// base met). The strategy must be valid: at most one base, weights and
// bases not negative.
func Providers(strategy []ProviderShare, counts map[string]int, n int) []string {
	running := make([]int, len(strategy))
	for i, s := range strategy {
		running[i] = counts[s.Provider]
	}
	out := make([]string, 0, n)
	for range n {
		pick := -1
		for i, s := range strategy {
			if running[i] < s.Base {
				pick = i
				break
			}
		}
		if pick < 0 {
			beyond := func(i int) int { return running[i] - min(running[i], strategy[i].Base) }
			for i, s := range strategy {
				if s.Weight <= 0 {
					continue
				}
				// (beyond(i)+1)/weight(i) < (beyond(pick)+1)/weight(pick)
				if pick < 0 || (beyond(i)+1)*strategy[pick].Weight < (beyond(pick)+1)*s.Weight {
					pick = i
				}
			}
		}
		if pick < 0 {
			return nil
		}
		running[pick]++
		out = append(out, strategy[pick].Provider)
	}
	return out
}

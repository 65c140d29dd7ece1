package scheduler

import (
	"math"
	"slices"
	"strings"
)

type levelKind uint8

const (
	binpackCPU levelKind = iota
	binpackMemory
	spreadInstance
	spreadAttribute
)

// level is one deterministic strategy of the chain. It gives every
// candidate a key; smaller is better.
type level struct {
	kind levelKind
	// spreadAttribute: value[i] indexes counts for instance i (the
	// attribute column, shared), and counts[v] is the number of the
	// group's tasks on the instances with value v, this call's included.
	// Instances without the attribute share the last entry.
	value  []int32
	counts []int64
}

// chain is the compiled strategy list: the deterministic levels before the
// first random strategy. The ties left after the last level (every
// candidate when there is no level) are broken uniformly at random, which is
// what a random strategy does, so strategies after a random one never
// matter.
type chain struct {
	levels []level
}

// needsGroup reports whether a rule of the request counts the group's tasks
// per instance.
func needsGroup(r *Request) bool {
	for _, c := range r.Constraints {
		if c.Type == ConstraintDistinctInstance {
			return true
		}
	}
	for _, s := range r.Strategies {
		if s.Type == StrategyRandom {
			break
		}
		if s.Type == StrategySpread {
			return true
		}
	}
	return false
}

func isInstanceField(f string) bool { return f == FieldInstanceID || f == FieldHost }

func (p *placer) compileChain() chain {
	var c chain
	for _, s := range p.req.Strategies {
		switch s.Type {
		case StrategyRandom:
			return c
		case StrategyBinpack:
			if strings.EqualFold(s.Field, FieldCPU) {
				c.levels = append(c.levels, level{kind: binpackCPU})
			} else {
				c.levels = append(c.levels, level{kind: binpackMemory})
			}
		case StrategySpread:
			if isInstanceField(s.Field) {
				c.levels = append(c.levels, level{kind: spreadInstance})
			} else {
				c.levels = append(c.levels, p.spreadLevel(strings.TrimPrefix(s.Field, FieldAttributePrefix)))
			}
		}
	}
	return c
}

// spreadLevel counts the group's tasks per value of attribute name over every
// instance of the cluster, whatever its status: tasks on a DRAINING or full
// instance still count for their zone. Instances without the attribute share
// one value.
func (p *placer) spreadLevel(name string) level {
	col := p.c.attrColumn(name)
	counts := p.c.spreadCounts(name, p.req.Group, col, p.group)
	return level{kind: spreadAttribute, value: col.value, counts: slices.Clone(counts)}
}

// placedOn updates the spread counts after a task was placed on instance i.
func (c *chain) placedOn(i int32) {
	for l := range c.levels {
		if lv := &c.levels[l]; lv.kind == spreadAttribute {
			lv.counts[lv.value[i]]++
		}
	}
}

// selector picks, task after task, the candidates that tie for the best
// keys. It keeps the ties of level 0 from one task to the next and updates
// them from what a placement changes, which is little: a placement only
// changes the chosen instance's binpack and instance-spread keys and the
// attribute-spread key of the instances sharing its value. Deeper levels
// are evaluated over the level-0 ties alone.
type selector struct {
	p     *placer
	c     *chain
	t0    []int32 // level-0 ties among the candidates, in ID order
	valid bool    // t0 is up to date
	buf   []int32
}

// ties returns the candidates that tie for the best keys, in ID order.
// The result is valid until the next call.
func (s *selector) ties(cands []int32) []int32 {
	if len(s.c.levels) == 0 || len(cands) == 0 {
		return cands
	}
	if !s.valid {
		s.t0 = grow(s.t0, len(cands))
		if len(s.c.levels) > 1 {
			s.buf = grow(s.buf, len(cands))
		}
		s.t0 = s.p.minTies(&s.c.levels[0], cands, s.t0)
		s.valid = true
	}
	in := s.t0
	for l := 1; l < len(s.c.levels) && len(in) > 1; l++ {
		// The first deeper level reads t0 and writes buf; the next ones
		// filter buf in place (a write never passes the read).
		in = s.p.minTies(&s.c.levels[l], in, s.buf[:0])
		s.buf = in
	}
	return in
}

// placed updates the level-0 ties after a task went to instance pick;
// removed says that pick cannot take another task.
func (s *selector) placed(pick int32, removed bool) {
	if !s.valid {
		return
	}
	lv := &s.c.levels[0]
	t0 := s.t0
	w := 0
	switch lv.kind {
	case binpackCPU, binpackMemory:
		per := s.p.task.CPU
		if lv.kind == binpackMemory {
			per = s.p.task.Memory
		}
		switch {
		case !removed && per > 0:
			// pick's remainder fell below every other key.
			s.t0 = append(t0[:0], pick)
			return
		case !removed:
			return // nothing changed
		}
		w = filter(t0, func(i int32) bool { return i != pick })
	case spreadInstance:
		// pick counts one more task than the other ties.
		w = filter(t0, func(i int32) bool { return i != pick })
	case spreadAttribute:
		// Every instance with pick's value counts one more task.
		value, v := lv.value, lv.value[pick]
		for _, i := range t0 {
			if value[i] != v {
				t0[w] = i
				w++
			}
		}
	}
	s.t0 = t0[:w]
	s.valid = w > 0
}

// filter keeps, in place and in order, the elements of s that keep
// accepts, and returns how many there are.
func filter(s []int32, keep func(int32) bool) int {
	w := 0
	for _, i := range s {
		if keep(i) {
			s[w] = i
			w++
		}
	}
	return w
}

// minTies appends to out the instances of idx with the smallest key at
// level lv. binpack prefers the least remaining resource (what remains after
// placing differs from it by the same reservation for every candidate);
// spread prefers the fewest tasks of the group on the instance or in its
// attribute value. One loop per kind keeps the scan free of calls.
func (p *placer) minTies(lv *level, idx []int32, out []int32) []int32 {
	placed := p.placed
	min := int64(math.MaxInt64)
	switch lv.kind {
	case binpackCPU, binpackMemory:
		free, per := p.c.cpu, p.task.CPU
		if lv.kind == binpackMemory {
			free, per = p.c.mem, p.task.Memory
		}
		for _, i := range idx {
			if k := free[i] - int64(placed[i])*per; k < min {
				min, out = k, append(out[:0], i)
			} else if k == min {
				out = append(out, i)
			}
		}
	case spreadInstance:
		if g := p.group; g != nil {
			for _, i := range idx {
				if k := int64(placed[i]) + int64(g[i]); k < min {
					min, out = k, append(out[:0], i)
				} else if k == min {
					out = append(out, i)
				}
			}
			break
		}
		// No group: only this call's tasks count.
		for _, i := range idx {
			if k := int64(placed[i]); k < min {
				min, out = k, append(out[:0], i)
			} else if k == min {
				out = append(out, i)
			}
		}
	case spreadAttribute:
		value, counts := lv.value, lv.counts
		for _, i := range idx {
			if k := counts[value[i]]; k < min {
				min, out = k, append(out[:0], i)
			} else if k == min {
				out = append(out, i)
			}
		}
	}
	return out
}

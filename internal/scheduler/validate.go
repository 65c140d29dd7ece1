package scheduler

import (
	"fmt"
	"strings"
)

// Validate reports whether Place can evaluate the request; Place panics on a
// request it rejects. Every error wraps ErrInvalidRequest. It checks
// structure only: the API layer owns ECS's messages for user input, and
// must reject what Validate rejects before calling Place.
func (r *Request) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidRequest, fmt.Sprintf(format, args...))
	}
	t := r.Task
	switch {
	case t.CPU < 0 || t.Memory < 0 || t.GPUs < 0 || t.ENIs < 0:
		return bad("negative task reservation (cpu %d, memory %d, gpus %d, enis %d)", t.CPU, t.Memory, t.GPUs, t.ENIs)
	case r.Count < 0:
		return bad("negative count %d", r.Count)
	case len(r.Instances) > 0 && len(r.Strategies) > 0:
		return bad("strategies do not apply when instances are named")
	case len(r.Strategies) > MaxStrategies:
		return bad("%d strategies, at most %d", len(r.Strategies), MaxStrategies)
	case len(r.Constraints) > MaxConstraints:
		return bad("%d constraints, at most %d", len(r.Constraints), MaxConstraints)
	}
	for _, p := range t.TCPPorts {
		if p < 0 || p > 65535 {
			return bad("tcp port %d out of range", p)
		}
	}
	for _, p := range t.UDPPorts {
		if p < 0 || p > 65535 {
			return bad("udp port %d out of range", p)
		}
	}
	for _, a := range r.RequiredAttributes {
		if a.Name == "" {
			return bad("required attribute without a name")
		}
	}
	for i, c := range r.Constraints {
		switch c.Type {
		case ConstraintDistinctInstance:
			if c.Expression != nil {
				return bad("constraint %d: distinctInstance takes no expression", i)
			}
		case ConstraintMemberOf:
			if c.Expression == nil {
				return bad("constraint %d: memberOf needs an expression", i)
			}
		default:
			return bad("constraint %d: unknown type %q", i, c.Type)
		}
	}
	for i, s := range r.Strategies {
		switch s.Type {
		case StrategyRandom:
		case StrategyBinpack:
			if !strings.EqualFold(s.Field, FieldCPU) && !strings.EqualFold(s.Field, FieldMemory) {
				return bad("strategy %d: binpack field %q, want cpu or memory", i, s.Field)
			}
		case StrategySpread:
			name, isAttr := strings.CutPrefix(s.Field, FieldAttributePrefix)
			if !isInstanceField(s.Field) && (!isAttr || name == "") {
				return bad("strategy %d: spread field %q, want instanceId, host or attribute:NAME", i, s.Field)
			}
		default:
			return bad("strategy %d: unknown type %q", i, s.Type)
		}
	}
	return nil
}

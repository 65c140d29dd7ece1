package lb

import (
	"context"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

// Health states as stored in targetRT.health.
const (
	stInitial int32 = iota
	stHealthy
	stUnhealthy
)

var stateNames = [...]string{lbconfig.HealthInitial, lbconfig.HealthHealthy, lbconfig.HealthUnhealthy}

type targetKey struct {
	tg   string
	addr string
	port int
}

// drainState is a target's current drain context: cancelled when the
// target's deregistration delay ends (or it leaves the configuration), which
// cuts what it still has in flight.
type drainState struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// targetRT is one target of one group; it lives as long as the target is
// in the configuration, across Applies.
type targetRT struct {
	key  targetKey
	id   string
	host string // address:port where traffic goes
	grp  *groupRT

	health       atomic.Int32
	draining     atomic.Bool
	slowStartAt  atomic.Int64 // unix ns the slow-start ramp began (0: none)
	outstanding  atomic.Int64 // in-flight requests (ALB) or connections (NLB)
	drain        atomic.Pointer[drainState]
	hc           atomic.Pointer[lbconfig.HealthCheck]
	tr           atomic.Pointer[targetTransport] // ALB: this target's connection pool
	trKey        transportKey                    // under Engine.mu
	drainUntil   time.Time                       // under Engine.mu
	drainTimer   *time.Timer
	stopProbe    context.CancelFunc // under Engine.mu
	probeStopped chan struct{}

	hmu           sync.Mutex
	reason, desc  string
	since         time.Time
	passes, fails int

	cmu   sync.Mutex
	conns map[net.Conn]struct{}
}

func (t *targetRT) newDrain() {
	ctx, cancel := context.WithCancel(context.Background())
	t.drain.Store(&drainState{ctx: ctx, cancel: cancel})
}

func (t *targetRT) healthy() bool { return t.health.Load() == stHealthy }

func (t *targetRT) addConn(c net.Conn) {
	t.cmu.Lock()
	if t.conns == nil {
		t.conns = map[net.Conn]struct{}{}
	}
	t.conns[c] = struct{}{}
	t.cmu.Unlock()
}

func (t *targetRT) removeConn(c net.Conn) {
	t.cmu.Lock()
	delete(t.conns, c)
	t.cmu.Unlock()
}

func (t *targetRT) closeConns() {
	t.cmu.Lock()
	cs := make([]net.Conn, 0, len(t.conns))
	for c := range t.conns {
		cs = append(cs, c)
	}
	t.cmu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// groupRT is the state of a target group that outlives configurations.
type groupRT struct {
	arn  string
	rr   atomic.Uint64
	view atomic.Pointer[groupView]
}

// groupView is one configuration's immutable view of a target group.
type groupView struct {
	cfg        *lbconfig.TargetGroup
	rt         *groupRT
	lbType     string
	registered []*targetRT // only these get new traffic
	byHost     map[string]*targetRT
	trKey      transportKey
	scheme     string // http or https, towards targets
}

// eligible returns the targets that may get a new request: the healthy
// registered ones, or all registered ones when none is healthy (fail-open).
func (g *groupView) eligible(buf []*targetRT) []*targetRT {
	out := buf[:0]
	for _, t := range g.registered {
		if t.healthy() {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return g.registered
	}
	return out
}

func (g *groupView) isEligible(t *targetRT) bool {
	if t.draining.Load() {
		return false
	}
	if t.healthy() {
		return true
	}
	for _, o := range g.registered {
		if o.healthy() {
			return false
		}
	}
	return true // fail-open
}

// slowStartWeight is a target's weight in [0.01, 1] during its slow-start
// ramp, 1 outside it.
func (g *groupView) slowStartWeight(t *targetRT, now time.Time) float64 {
	at := t.slowStartAt.Load()
	if at == 0 || g.cfg.SlowStart <= 0 {
		return 1
	}
	el := now.Sub(time.Unix(0, at))
	if el >= g.cfg.SlowStart {
		return 1
	}
	return max(float64(el)/float64(g.cfg.SlowStart), 0.01)
}

// pick chooses a target for a new request with the group's algorithm.
func (g *groupView) pick(now time.Time) *targetRT {
	var buf [16]*targetRT
	ts := g.eligible(buf[:])
	switch len(ts) {
	case 0:
		return nil
	case 1:
		return ts[0]
	}
	n := g.rt.rr.Add(1)
	switch g.cfg.Algorithm {
	case lbconfig.AlgorithmLeastOutstanding:
		best := ts[n%uint64(len(ts))]
		bo := best.outstanding.Load()
		for i := range ts {
			t := ts[(n+uint64(i))%uint64(len(ts))]
			if o := t.outstanding.Load(); o < bo {
				best, bo = t, o
			}
		}
		return best
	case lbconfig.AlgorithmWeightedRandom:
		return weightedRandom(g, ts, now)
	}
	if g.cfg.SlowStart > 0 {
		for _, t := range ts {
			if g.slowStartWeight(t, now) < 1 {
				return weightedRandom(g, ts, now)
			}
		}
	}
	return ts[n%uint64(len(ts))]
}

func weightedRandom(g *groupView, ts []*targetRT, now time.Time) *targetRT {
	var ws [16]float64
	total := 0.0
	for i, t := range ts {
		w := g.slowStartWeight(t, now)
		if i < len(ws) {
			ws[i] = w
		}
		total += w
	}
	x := rand.Float64() * total
	for i, t := range ts {
		w := 1.0
		if i < len(ws) {
			w = ws[i]
		} else {
			w = g.slowStartWeight(t, now)
		}
		if x < w {
			return t
		}
		x -= w
	}
	return ts[len(ts)-1]
}

func hostPort(addr string, port int) string {
	return net.JoinHostPort(addr, strconv.Itoa(port))
}

package lb

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/lbrule"
)

// Config configures an Engine.
type Config struct {
	Log *slog.Logger
	// Now is the engine's clock (health timestamps, slow start, stickiness,
	// trace ids); time.Now when nil.
	Now func() time.Time
	// Node names this data plane in health reports.
	Node string
	// Listen binds a listener socket; net.Listen when nil.
	Listen func(network, addr string) (net.Listener, error)
	// ConnectTimeout bounds a connection to a target (ALB's is 10 s).
	ConnectTimeout time.Duration
	// ShutdownTimeout bounds how long a closed listener waits for its
	// in-flight requests (default 30 s).
	ShutdownTimeout time.Duration
}

// Engine serves the load balancers of the configurations applied to it.
type Engine struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	ctx     context.Context
	cancel  context.CancelFunc
	changes chan struct{}
	aead    cipher.AEAD
	proxy   http.Handler

	hcTransport *http.Transport
	wg          sync.WaitGroup

	serving atomic.Pointer[map[string]bool]

	mu        sync.Mutex // Apply and Close only; never on the request path
	applied   bool
	closed    bool
	rev       uint64
	listeners map[string]*listener // by listener ARN
	groups    map[string]*groupRT
	targets   map[targetKey]*targetRT
}

// New returns an engine serving nothing until the first Apply.
func New(cfg Config) *Engine {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Listen == nil {
		cfg.Listen = net.Listen
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 10 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 30 * time.Second
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(err)
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	ctx, cancel := context.WithCancel(context.Background())
	e := &Engine{
		cfg: cfg, log: cfg.Log, now: cfg.Now, ctx: ctx, cancel: cancel,
		changes:     make(chan struct{}, 1),
		aead:        aead,
		hcTransport: newHealthTransport(cfg.ConnectTimeout),
		listeners:   map[string]*listener{},
		groups:      map[string]*groupRT{},
		targets:     map[targetKey]*targetRT{},
	}
	e.proxy = e.newReverseProxy()
	empty := map[string]bool{}
	e.serving.Store(&empty)
	return e
}

// Changes is signalled (coalesced) when any target's health state changes.
func (e *Engine) Changes() <-chan struct{} { return e.changes }

// Serving reports whether every listener of the load balancer is bound.
func (e *Engine) Serving(lbARN string) bool { return (*e.serving.Load())[lbARN] }

// Revision is the revision of the configuration applied last.
func (e *Engine) Revision() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.rev
}

// Health returns the health of every target the engine checks (the
// registered targets of groups a load balancer uses), sorted.
func (e *Engine) Health() []lbconfig.TargetHealth {
	e.mu.Lock()
	ts := make([]*targetRT, 0, len(e.targets))
	for _, t := range e.targets {
		if !t.draining.Load() && t.grp.view.Load().cfg.LoadBalancerARN != "" {
			ts = append(ts, t)
		}
	}
	e.mu.Unlock()
	out := make([]lbconfig.TargetHealth, 0, len(ts))
	for _, t := range ts {
		t.hmu.Lock()
		out = append(out, lbconfig.TargetHealth{
			TargetGroupARN: t.key.tg, ID: t.id, Port: t.key.port,
			State: stateNames[t.health.Load()], Reason: t.reason, Description: t.desc, Since: t.since,
		})
		t.hmu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.TargetGroupARN != b.TargetGroupARN {
			return a.TargetGroupARN < b.TargetGroupARN
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Port < b.Port
	})
	return out
}

// Report returns a full health report of this node.
func (e *Engine) Report() lbconfig.HealthReport {
	return lbconfig.HealthReport{Node: e.cfg.Node, Full: true, Targets: e.Health(), Revision: e.Revision()}
}

// Apply makes c the served configuration. Unchanged listeners keep their
// sockets and connections. It returns the listeners that failed to bind or
// configure (joined) and serves the others.
func (e *Engine) Apply(c *lbconfig.Config) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return errors.New("lb: engine closed")
	}
	if e.applied && c.Revision <= e.rev {
		return nil
	}
	e.applied, e.rev = true, c.Revision
	now := e.now()

	lbs := map[string]*lbconfig.LoadBalancer{}
	for i := range c.LoadBalancers {
		lbs[c.LoadBalancers[i].ARN] = &c.LoadBalancers[i]
	}
	certs := map[string]*lbconfig.Certificate{}
	for i := range c.Certificates {
		certs[c.Certificates[i].ARN] = &c.Certificates[i]
	}

	// Target groups and their targets.
	views := map[string]*groupView{}
	seen := map[targetKey]bool{}
	var startProbes []*targetRT // started once the views are in place
	for i := range c.TargetGroups {
		tg := c.TargetGroups[i]
		g := e.groups[tg.ARN]
		if g == nil {
			g = &groupRT{arn: tg.ARN}
			e.groups[tg.ARN] = g
		}
		v := &groupView{cfg: &tg, rt: g, lbType: lbconfig.TypeApplication, scheme: "http", byHost: map[string]*targetRT{}}
		if lb := lbs[tg.LoadBalancerARN]; lb != nil && lb.Type == lbconfig.TypeNetwork {
			v.lbType = lbconfig.TypeNetwork
		} else if tg.Protocol == lbconfig.ProtocolTCP || tg.Protocol == lbconfig.ProtocolTLS {
			v.lbType = lbconfig.TypeNetwork
		}
		if tg.Protocol == lbconfig.ProtocolHTTPS {
			v.scheme = "https"
		}
		if v.lbType == lbconfig.TypeApplication {
			idle := 60 * time.Second
			if lb := lbs[tg.LoadBalancerARN]; lb != nil && lb.IdleTimeout > 0 {
				idle = lb.IdleTimeout
			}
			v.trKey = transportKey{h2: tg.ProtocolVersion == "HTTP2" || tg.ProtocolVersion == "GRPC", tls: v.scheme == "https", idle: idle}
		}
		hc := tg.HealthCheck
		if hc.Interval <= 0 {
			hc.Interval = 30 * time.Second
		}
		probe := hc.Enabled && tg.LoadBalancerARN != ""
		for _, tc := range tg.Targets {
			k := targetKey{tg: tg.ARN, addr: tc.Address, port: tc.Port}
			if seen[k] {
				continue
			}
			seen[k] = true
			t := e.targets[k]
			fresh := t == nil
			if fresh {
				t = &targetRT{key: k, id: tc.ID, host: hostPort(tc.Address, tc.Port), grp: g}
				t.newDrain()
				t.since = now
				e.targets[k] = t
			}
			t.hc.Store(&hc)
			draining := tc.State == lbconfig.TargetDraining
			switch {
			case draining && (fresh || !t.draining.Load()):
				t.draining.Store(true)
				t.stopProbing()
				e.armDrain(t, tc.DrainUntil, now)
			case draining && !tc.DrainUntil.Equal(t.drainUntil):
				e.armDrain(t, tc.DrainUntil, now)
			case !draining && !fresh && t.draining.Load():
				// Registered again: it starts over as a new target.
				if t.drainTimer != nil {
					t.drainTimer.Stop()
				}
				t.draining.Store(false)
				t.newDrain()
				fresh = true
			}
			if v.lbType == lbconfig.TypeApplication && (t.tr.Load() == nil || t.trKey != v.trKey) {
				// A connection pool per target: what a target has in
				// flight can be cut by closing its connections.
				old := t.tr.Swap(e.newTransport(t, v.trKey))
				t.trKey = v.trKey
				if old != nil {
					old.CloseIdleConnections()
				}
			}
			if !draining {
				v.registered = append(v.registered, t)
				v.byHost[t.host] = t
				switch {
				case !probe:
					t.stopProbing()
					if t.health.Load() != stHealthy {
						t.hmu.Lock()
						e.setHealth(t, stHealthy, "", "")
						t.hmu.Unlock()
					}
				case fresh || t.stopProbe == nil:
					t.hmu.Lock()
					t.passes, t.fails = 0, 0
					t.since, t.reason, t.desc = now, lbconfig.ReasonInitialHealthChecking, "Initial health checks in progress"
					t.health.Store(stInitial)
					t.hmu.Unlock()
					t.stopProbing()
					startProbes = append(startProbes, t)
				}
			}
		}
		views[tg.ARN] = v
	}
	for _, v := range views {
		v.rt.view.Store(v)
	}
	for _, t := range startProbes {
		e.startProbe(t)
	}
	for k, t := range e.targets {
		if !seen[k] {
			t.stopProbing()
			if t.drainTimer != nil {
				t.drainTimer.Stop()
			}
			t.drain.Load().cancel()
			if g := t.grp.view.Load(); g.lbType == lbconfig.TypeApplication || g.cfg.ConnectionTermination || !t.draining.Load() {
				t.closeConns()
			}
			delete(e.targets, k)
		}
	}
	for arn := range e.groups {
		if views[arn] == nil {
			delete(e.groups, arn)
		}
	}

	// Listeners.
	var errs []error
	want := map[string]bool{}
	serving := map[string]bool{}
	type pending struct {
		lb   *lbconfig.LoadBalancer
		ln   *lbconfig.Listener
		view *listenerView
		tls  *tls.Config
	}
	var binds []pending
	for _, lb := range c.LoadBalancers {
		serving[lb.ARN] = true
		for j := range lb.Listeners {
			ln := &lb.Listeners[j]
			view, tconf, err := e.buildListener(lb, ln, views, certs)
			if err != nil {
				errs = append(errs, fmt.Errorf("listener %s: %w", ln.ARN, err))
				if e.listeners[ln.ARN] != nil {
					// Keep serving the last good configuration of it.
					want[ln.ARN] = true
				} else {
					serving[lb.ARN] = false
				}
				continue
			}
			want[ln.ARN] = true
			binds = append(binds, pending{lb: &lb, ln: ln, view: view, tls: tconf})
		}
	}
	// Close removed listeners and those that must rebind first, so that a
	// new listener can take over their port.
	for arn, l := range e.listeners {
		if !want[arn] {
			l.close(e.cfg.ShutdownTimeout)
			delete(e.listeners, arn)
		}
	}
	for _, b := range binds {
		l := e.listeners[b.ln.ARN]
		if l != nil && !l.compatible(b.lb, b.ln) {
			l.close(e.cfg.ShutdownTimeout)
			delete(e.listeners, b.ln.ARN)
			l = nil
		}
		if l != nil {
			l.view.Store(b.view)
			if b.tls != nil {
				l.tls.Store(b.tls)
			}
			continue
		}
		l, err := e.bind(b.lb, b.ln, b.view, b.tls)
		if err != nil {
			errs = append(errs, fmt.Errorf("listener %s (%s:%d): %w", b.ln.ARN, b.lb.Address, b.ln.Port, err))
			serving[b.lb.ARN] = false
			continue
		}
		e.listeners[b.ln.ARN] = l
	}
	e.serving.Store(&serving)
	return errors.Join(errs...)
}

// armDrain schedules the end of t's deregistration delay (under e.mu).
func (e *Engine) armDrain(t *targetRT, until, now time.Time) {
	if t.drainTimer != nil {
		t.drainTimer.Stop()
	}
	t.drainUntil = until
	d := until.Sub(now)
	ds := t.drain.Load()
	cut := func() {
		ds.cancel()
		// ALB: requests still in flight are cut (502); NLB: connections
		// close only with connection termination on.
		if g := t.grp.view.Load(); g != nil && (g.lbType == lbconfig.TypeApplication || g.cfg.ConnectionTermination) {
			t.closeConns()
		}
	}
	if until.IsZero() || d <= 0 {
		t.drainTimer = nil
		if !until.IsZero() {
			cut()
		}
		return
	}
	t.drainTimer = time.AfterFunc(d, cut)
}

// Close stops every listener and health check; in-flight requests get
// ShutdownTimeout to finish.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	ls := e.listeners
	e.listeners = map[string]*listener{}
	for _, t := range e.targets {
		t.stopProbing()
		if t.drainTimer != nil {
			t.drainTimer.Stop()
		}
	}
	e.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.close(e.cfg.ShutdownTimeout)
			l.wait()
		}()
	}
	wg.Wait()
	e.cancel()
	e.wg.Wait()
	for _, t := range e.targets {
		if tr := t.tr.Load(); tr != nil {
			tr.CloseIdleConnections()
		}
	}
	empty := map[string]bool{}
	e.serving.Store(&empty)
	return nil
}

// lbrule is used by listener views.
var _ = lbrule.Compile

func netipAddrPort(a net.Addr) (netip.AddrPort, error) {
	return netip.ParseAddrPort(a.String())
}

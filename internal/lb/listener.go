package lb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/lbrule"
)

// listenerView is one configuration's immutable view of a listener.
type listenerView struct {
	lb      *lbconfig.LoadBalancer
	port    int
	proto   string // HTTP, HTTPS, TCP, TLS
	scheme  string // http or https (X-Forwarded-Proto)
	portStr string
	rules   *lbrule.Rules
	actions []action // one per rule, in rule order
	idle    time.Duration
}

// action is a rule's terminal action, resolved.
type action struct {
	kind       string
	fixed      *lbconfig.FixedResponse
	redirect   *lbconfig.Redirect
	groups     []*groupView
	weights    []int
	stickiness time.Duration
}

// listener is one bound socket.
type listener struct {
	e      *Engine
	arn    string
	lbARN  string
	addr   string
	proto  string
	http2  bool
	ln     net.Listener
	view   atomic.Pointer[listenerView]
	tls    atomic.Pointer[tls.Config]
	srv    *http.Server // ALB listeners
	done   chan struct{}
	closed atomic.Bool
	// NLB: open client connections, closed when the engine closes.
	cmu   sync.Mutex
	conns map[net.Conn]struct{}
	cwg   sync.WaitGroup
}

func (e *Engine) buildListener(lb lbconfig.LoadBalancer, ln *lbconfig.Listener, views map[string]*groupView, certs map[string]*lbconfig.Certificate) (*listenerView, *tls.Config, error) {
	rules, err := lbrule.Compile(ln.Rules)
	if err != nil {
		return nil, nil, err
	}
	v := &listenerView{lb: &lb, port: ln.Port, proto: ln.Protocol, scheme: "http", portStr: strconv.Itoa(ln.Port), rules: rules, idle: lb.IdleTimeout}
	if v.idle <= 0 {
		v.idle = 60 * time.Second
	}
	if ln.Protocol == lbconfig.ProtocolTCP || ln.Protocol == lbconfig.ProtocolTLS {
		v.idle = ln.TCPIdleTimeout
		if v.idle <= 0 {
			v.idle = 350 * time.Second
		}
	}
	for _, r := range ln.Rules {
		if len(r.Actions) == 0 {
			return nil, nil, fmt.Errorf("rule %s has no action", r.ARN)
		}
		a := r.Actions[len(r.Actions)-1]
		// The view owns copies: the caller may reuse its Config.
		ra := action{kind: a.Type, stickiness: a.Stickiness}
		if a.FixedResponse != nil {
			fr := *a.FixedResponse
			ra.fixed = &fr
		}
		if a.Redirect != nil {
			rd := *a.Redirect
			ra.redirect = &rd
		}
		switch a.Type {
		case lbconfig.ActionForward:
			for _, wtg := range a.TargetGroups {
				g := views[wtg.ARN]
				if g == nil {
					return nil, nil, fmt.Errorf("rule %s forwards to unknown target group %s", r.ARN, wtg.ARN)
				}
				ra.groups = append(ra.groups, g)
				ra.weights = append(ra.weights, wtg.Weight)
			}
			if len(ra.groups) == 0 {
				return nil, nil, fmt.Errorf("rule %s forwards to no target group", r.ARN)
			}
		case lbconfig.ActionRedirect:
			if a.Redirect == nil {
				return nil, nil, fmt.Errorf("rule %s: redirect without its configuration", r.ARN)
			}
		case lbconfig.ActionFixedResponse:
			if a.FixedResponse == nil {
				return nil, nil, fmt.Errorf("rule %s: fixed-response without its configuration", r.ARN)
			}
		default:
			return nil, nil, fmt.Errorf("rule %s: unsupported action %q", r.ARN, a.Type)
		}
		v.actions = append(v.actions, ra)
	}
	var tconf *tls.Config
	switch ln.Protocol {
	case lbconfig.ProtocolHTTPS:
		v.scheme = "https"
		alpn := []string{"http/1.1"}
		if lb.HTTP2 {
			alpn = []string{"h2", "http/1.1"}
		}
		tconf, err = buildTLS(ln, certs, alpn)
	case lbconfig.ProtocolTLS:
		tconf, err = buildTLS(ln, certs, nlbALPN(ln.ALPNPolicy))
	case lbconfig.ProtocolHTTP, lbconfig.ProtocolTCP:
	default:
		err = fmt.Errorf("unsupported protocol %q", ln.Protocol)
	}
	if err != nil {
		return nil, nil, err
	}
	return v, tconf, nil
}

// compatible reports whether the running listener can serve ln without
// rebinding (certificates and rules are swapped in place).
func (l *listener) compatible(lb *lbconfig.LoadBalancer, ln *lbconfig.Listener) bool {
	return l.addr == net.JoinHostPort(lb.Address, strconv.Itoa(ln.Port)) && l.proto == ln.Protocol &&
		l.lbARN == lb.ARN && (l.http2 == lb.HTTP2 || l.srv == nil)
}

func (e *Engine) bind(lb *lbconfig.LoadBalancer, ln *lbconfig.Listener, view *listenerView, tconf *tls.Config) (*listener, error) {
	addr := net.JoinHostPort(lb.Address, strconv.Itoa(ln.Port))
	sock, err := e.cfg.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	l := &listener{e: e, arn: ln.ARN, lbARN: lb.ARN, addr: addr, proto: ln.Protocol, http2: lb.HTTP2, ln: sock, done: make(chan struct{})}
	l.view.Store(view)
	if tconf != nil {
		l.tls.Store(tconf)
		sock = tls.NewListener(sock, &tls.Config{
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) { return l.tls.Load(), nil },
			// NextProtos here only tells net/http that h2 may be negotiated.
			NextProtos: tconf.NextProtos,
		})
	}
	switch ln.Protocol {
	case lbconfig.ProtocolHTTP, lbconfig.ProtocolHTTPS:
		var protos http.Protocols
		protos.SetHTTP1(true)
		if lb.HTTP2 {
			if ln.Protocol == lbconfig.ProtocolHTTPS {
				protos.SetHTTP2(true)
			} else {
				protos.SetUnencryptedHTTP2(true)
			}
		}
		l.srv = &http.Server{
			Handler:           l,
			Protocols:         &protos,
			ReadHeaderTimeout: 60 * time.Second,
			IdleTimeout:       view.idle,
			MaxHeaderBytes:    64 << 10,
			ErrorLog:          slog.NewLogLogger(e.log.Handler(), slog.LevelDebug),
			// Requests (and the upgraded connections the proxy holds) end
			// when the engine closes.
			BaseContext: func(net.Listener) context.Context { return e.ctx },
		}
		go func() {
			defer close(l.done)
			if err := l.srv.Serve(sock); err != nil && !errors.Is(err, http.ErrServerClosed) && !l.closed.Load() {
				e.log.Warn("listener stopped", "listener", ln.ARN, "err", err)
			}
		}()
	default:
		go func() {
			defer close(l.done)
			l.acceptTCP(sock)
		}()
	}
	e.log.Info("listening", "listener", ln.ARN, "addr", addr, "protocol", ln.Protocol)
	return l, nil
}

// close stops accepting; in-flight requests get grace to finish.
func (l *listener) close(grace time.Duration) {
	if !l.closed.CompareAndSwap(false, true) {
		return
	}
	// The socket closes now, so that another listener may bind the port at
	// once; connections already accepted finish in the background.
	l.ln.Close()
	if l.srv != nil {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), grace)
			defer cancel()
			if err := l.srv.Shutdown(ctx); err != nil {
				l.srv.Close()
			}
		}()
		return
	}
	go func() {
		// NLB connections end on their own (idle timeout, either side
		// closing); after grace what is left is closed.
		t := time.AfterFunc(grace, l.closeConns)
		l.cwg.Wait()
		t.Stop()
	}()
}

// wait returns when the listener's server has stopped and, for NLB, its
// connections have ended.
func (l *listener) wait() {
	<-l.done
	if l.srv != nil {
		// Shutdown runs in the background; wait for in-flight requests.
		ctx, cancel := context.WithTimeout(context.Background(), l.e.cfg.ShutdownTimeout)
		defer cancel()
		if l.srv.Shutdown(ctx) != nil {
			l.srv.Close()
		}
		return
	}
	l.cwg.Wait()
}

func (l *listener) closeConns() {
	l.cmu.Lock()
	for c := range l.conns {
		c.Close()
	}
	l.cmu.Unlock()
}

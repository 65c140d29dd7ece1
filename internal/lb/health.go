package lb

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"berth.dev/berth/internal/lbconfig"
)

// HealthCheckUserAgent is the User-Agent of HTTP health checks.
const HealthCheckUserAgent = "ELB-HealthChecker/2.0"

func newHealthTransport(timeout time.Duration) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: timeout}).DialContext,
		DisableKeepAlives:   true, // the LB closes the probe connection after each check
		DisableCompression:  true,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // ELB does not verify target certificates
		TLSHandshakeTimeout: timeout,
	}
}

// startProbe starts the prober of t (under Engine.mu).
func (e *Engine) startProbe(t *targetRT) {
	ctx, cancel := context.WithCancel(e.ctx)
	done := make(chan struct{})
	t.stopProbe = cancel
	t.probeStopped = done
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		timer := time.NewTimer(0) // the first check runs at once
		defer timer.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
			hc := t.hc.Load()
			ok, reason, desc := e.check(ctx, t, hc)
			if ctx.Err() != nil {
				return
			}
			e.record(t, hc, ok, reason, desc)
			timer.Reset(hc.Interval)
		}
	}()
}

// stopProbing stops t's prober (under Engine.mu).
func (t *targetRT) stopProbing() {
	if t.stopProbe != nil {
		t.stopProbe()
		t.stopProbe = nil
	}
}

// check runs one health check of t.
func (e *Engine) check(ctx context.Context, t *targetRT, hc *lbconfig.HealthCheck) (ok bool, reason, desc string) {
	port := hc.Port
	if port == 0 {
		port = t.key.port
	}
	addr := hostPort(t.key.addr, port)
	timeout := hc.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	nlb := t.grp.view.Load().lbType == lbconfig.TypeNetwork
	fail := func(r, d string) (bool, string, string) {
		if nlb {
			return false, lbconfig.ReasonFailedHealthChecks, "Health checks failed"
		}
		return false, r, d
	}
	switch hc.Protocol {
	case lbconfig.ProtocolTCP, lbconfig.ProtocolTLS, "":
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return fail(lbconfig.ReasonFailedHealthChecks, "Health checks failed")
		}
		c.Close()
		return true, "", ""
	}
	scheme := "http"
	if hc.Protocol == lbconfig.ProtocolHTTPS {
		scheme = "https"
	}
	path := hc.Path
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+path, nil)
	if err != nil {
		return fail(lbconfig.ReasonInternalError, "Health checks failed due to an internal error")
	}
	req.Header.Set("User-Agent", HealthCheckUserAgent)
	req.Close = true
	resp, err := e.hcTransport.RoundTrip(req)
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return fail(lbconfig.ReasonTimeout, "Request timed out")
		}
		return fail(lbconfig.ReasonFailedHealthChecks, "Health checks failed")
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if !matchCode(hc.Matcher, resp.StatusCode) {
		return fail(lbconfig.ReasonResponseCodeMismatch, fmt.Sprintf("Health checks failed with these codes: [%d]", resp.StatusCode))
	}
	return true, "", ""
}

// matchCode reports whether code is among matcher's codes ("200",
// "200,202", "200-299"; empty means 200).
func matchCode(matcher string, code int) bool {
	if strings.TrimSpace(matcher) == "" {
		matcher = "200"
	}
	for _, part := range strings.Split(matcher, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		l, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			continue
		}
		h := l
		if isRange {
			if h, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				continue
			}
		}
		if l <= code && code <= h {
			return true
		}
	}
	return false
}

// record applies one check's outcome to t's state machine: a new target
// turns healthy on its first pass (ALB; NLB after HealthyThreshold), an
// unhealthy one after HealthyThreshold consecutive passes; any target turns
// unhealthy after UnhealthyThreshold consecutive failures.
func (e *Engine) record(t *targetRT, hc *lbconfig.HealthCheck, ok bool, reason, desc string) {
	t.hmu.Lock()
	cur := t.health.Load()
	next := cur
	if ok {
		t.passes++
		t.fails = 0
		switch cur {
		case stInitial:
			if t.grp.view.Load().lbType != lbconfig.TypeNetwork || t.passes >= max(hc.HealthyThreshold, 1) {
				next = stHealthy
			}
		case stUnhealthy:
			if t.passes >= max(hc.HealthyThreshold, 1) {
				next = stHealthy
			}
		}
	} else {
		t.fails++
		t.passes = 0
		if cur != stUnhealthy && t.fails >= max(hc.UnhealthyThreshold, 1) {
			next = stUnhealthy
		}
	}
	switch {
	case next != cur:
		e.setHealth(t, next, reason, desc)
	case cur == stUnhealthy && !ok && (reason != t.reason || desc != t.desc):
		// Still unhealthy, for another reason now.
		t.reason, t.desc = reason, desc
		e.signal()
	}
	t.hmu.Unlock()
}

// setHealth moves t to state (under t.hmu).
func (e *Engine) setHealth(t *targetRT, state int32, reason, desc string) {
	now := e.now()
	t.since = now
	t.reason, t.desc = reason, desc
	if state == stHealthy {
		t.reason, t.desc = "", ""
		t.slowStartAt.Store(0)
		if g := t.grp.view.Load(); g != nil && g.cfg.SlowStart > 0 {
			// Slow start applies to a target joining a group that already
			// serves, not to the first targets of an empty group.
			for _, o := range g.registered {
				if o != t && o.healthy() {
					t.slowStartAt.Store(now.UnixNano())
					break
				}
			}
		}
	}
	t.health.Store(state)
	if g := t.grp.view.Load(); state == stUnhealthy && g != nil && g.lbType == lbconfig.TypeNetwork {
		// NLB resets the flows of a target that turns unhealthy
		// (target_health_state.unhealthy.connection_termination, on by
		// default), unless the group fails open.
		for _, o := range g.registered {
			if o != t && o.healthy() {
				go t.closeConns()
				break
			}
		}
	}
	e.log.Debug("target health", "tg", t.key.tg, "target", t.host, "state", stateNames[state], "reason", reason)
	e.signal()
}

func (e *Engine) signal() {
	select {
	case e.changes <- struct{}{}:
	default:
	}
}

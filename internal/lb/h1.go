package lb

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"time"
)

// targetTransport is the connection pool towards one target of an ALB.
//
// Bodiless GET and HEAD requests to a plain-HTTP/1.1 target go through
// fast, which writes the request and reads the answer on the calling
// goroutine. http.Transport hands every request to a writer goroutine and
// takes the answer from a reader goroutine of its connection: two more
// goroutine wake-ups per request, which a profile of `berth lb` under load
// shows (bench/lb). Everything else (bodies, upgrades, Expect, TLS,
// HTTP/2) goes through the http.Transport.
type targetTransport struct {
	std  *http.Transport
	fast *h1Pool // nil: TLS or HTTP/2 targets
}

func (t *targetTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.fast != nil && fastEligible(r) {
		return t.fast.roundTrip(r)
	}
	return t.std.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of both pools.
func (t *targetTransport) CloseIdleConnections() {
	t.std.CloseIdleConnections()
	if t.fast != nil {
		t.fast.closeIdle()
	}
}

// fastEligible reports whether r can take the fast path: a GET or HEAD
// without a body, not asking for an upgrade or a 100-continue.
func fastEligible(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if r.Body != nil && r.Body != http.NoBody || r.ContentLength != 0 || r.Close {
		return false
	}
	if _, ok := r.Header["Upgrade"]; ok {
		return false
	}
	if _, ok := r.Header["Expect"]; ok {
		return false
	}
	return r.URL.Scheme == "http"
}

// h1Pool holds the idle keep-alive connections of the fast path, the most
// recently used last.
type h1Pool struct {
	dial          func(ctx context.Context, network, addr string) (net.Conn, error)
	headerTimeout time.Duration // 0: none
	idleTimeout   time.Duration
	maxIdle       int

	mu     sync.Mutex
	idle   []*h1Conn
	reaper *time.Timer // armed while idle connections wait
}

type h1Conn struct {
	c      net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

// past is a deadline that has passed: setting it wakes a blocked read or
// write at once.
var past = time.Unix(1, 0)

const h1BufSize = 32 << 10

func (p *h1Pool) get(ctx context.Context, addr string) (*h1Conn, bool, error) {
	p.mu.Lock()
	if n := len(p.idle); n > 0 {
		pc := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return pc, true, nil
	}
	p.mu.Unlock()
	c, err := p.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return &h1Conn{c: c, br: bufio.NewReaderSize(c, h1BufSize), bw: bufio.NewWriterSize(c, h1BufSize)}, false, nil
}

// put keeps pc for the next request, or closes it when the pool is full.
func (p *h1Pool) put(pc *h1Conn) {
	pc.idleAt = time.Now()
	p.mu.Lock()
	if len(p.idle) >= p.maxIdle {
		p.mu.Unlock()
		pc.c.Close()
		return
	}
	p.idle = append(p.idle, pc)
	if p.reaper == nil && p.idleTimeout > 0 {
		p.reaper = time.AfterFunc(p.idleTimeout, p.reap)
	}
	p.mu.Unlock()
}

// reap closes the connections idle for longer than the idle timeout, and
// runs again while others wait.
func (p *h1Pool) reap() {
	cut := time.Now().Add(-p.idleTimeout)
	p.mu.Lock()
	i := 0
	for i < len(p.idle) && !p.idle[i].idleAt.After(cut) {
		i++
	}
	stale := append([]*h1Conn(nil), p.idle[:i]...)
	p.idle = append(p.idle[:0], p.idle[i:]...)
	p.reaper = nil
	if len(p.idle) > 0 {
		p.reaper = time.AfterFunc(p.idle[0].idleAt.Sub(cut), p.reap)
	}
	p.mu.Unlock()
	for _, pc := range stale {
		pc.c.Close()
	}
}

func (p *h1Pool) closeIdle() {
	p.mu.Lock()
	idle := p.idle
	p.idle = nil
	if p.reaper != nil {
		p.reaper.Stop()
		p.reaper = nil
	}
	p.mu.Unlock()
	for _, pc := range idle {
		pc.c.Close()
	}
}

// errNothingReceived marks a failure before any byte of the answer came:
// on a reused connection, the target may have closed it while it was idle.
type errNothingReceived struct{ err error }

func (e *errNothingReceived) Error() string { return e.err.Error() }
func (e *errNothingReceived) Unwrap() error { return e.err }

// roundTrip sends req on an idle connection or a new one. When a reused
// connection fails before any byte of the answer arrives, it tries once
// more on a new connection, as http.Transport does for idempotent requests
// (GET and HEAD are).
func (p *h1Pool) roundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 0; ; attempt++ {
		pc, reused, err := p.get(ctx, req.URL.Host)
		if err != nil {
			return nil, err
		}
		resp, err := p.send(ctx, pc, req)
		if err == nil {
			return resp, nil
		}
		pc.c.Close()
		var nothing *errNothingReceived
		if errors.As(err, &nothing) {
			if reused && attempt == 0 && ctx.Err() == nil {
				continue
			}
			err = nothing.err
		}
		return nil, err
	}
}

func (p *h1Pool) send(ctx context.Context, pc *h1Conn, req *http.Request) (*http.Response, error) {
	// A request cancelled (the client went away) wakes whatever the
	// connection is blocked on.
	stop := context.AfterFunc(ctx, func() { pc.c.SetDeadline(past) })
	fail := func(err error) (*http.Response, error) {
		stop()
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, err
	}
	if err := req.Write(pc.bw); err != nil {
		return fail(&errNothingReceived{err})
	}
	if err := pc.bw.Flush(); err != nil {
		return fail(&errNothingReceived{err})
	}
	if p.headerTimeout > 0 {
		pc.c.SetReadDeadline(time.Now().Add(p.headerTimeout))
	}
	var resp *http.Response
	for {
		if _, err := pc.br.Peek(1); err != nil {
			return fail(&errNothingReceived{err})
		}
		var err error
		resp, err = http.ReadResponse(pc.br, req)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
		// An informational answer (103 Early Hints): the reverse proxy
		// passes it on through its trace hook; the final answer follows.
		if tr := httptrace.ContextClientTrace(ctx); tr != nil && tr.Got1xxResponse != nil {
			if err := tr.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return fail(err)
			}
		}
	}
	if p.headerTimeout > 0 {
		pc.c.SetReadDeadline(time.Time{})
	}
	if err := ctx.Err(); err != nil {
		// Cancelled while the deadline was being reset: the connection's
		// state is unknown.
		stop()
		return nil, err
	}
	b := &h1Body{p: p, pc: pc, rc: resp.Body, stop: stop, reuse: !resp.Close}
	if resp.Body == http.NoBody {
		b.finish(true)
		return resp, nil
	}
	resp.Body = b
	return resp, nil
}

// h1Body is an answer's body: its connection goes back to the pool once
// the body is read to its end, and is closed when it is closed before.
type h1Body struct {
	p     *h1Pool
	pc    *h1Conn
	rc    io.ReadCloser
	stop  func() bool
	reuse bool

	mu   sync.Mutex
	done bool
}

func (b *h1Body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.finish(true)
	} else if err != nil {
		b.finish(false)
	}
	return n, err
}

func (b *h1Body) Close() error {
	b.finish(false)
	return nil
}

func (b *h1Body) finish(complete bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.done = true
	// stop reports false when the cancellation already set a past
	// deadline: the connection cannot be used again.
	if b.stop() && complete && b.reuse {
		b.p.put(b.pc)
		return
	}
	b.pc.c.Close()
}

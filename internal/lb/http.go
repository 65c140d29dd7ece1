package lb

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/lbrule"
)

// Cookie names of ALB's stickiness.
const (
	CookieTarget      = "AWSALB"
	CookieTargetGroup = "AWSALBTG"
	// CookieApp is the cookie the LB issues when a target sets the group's
	// application cookie (app_cookie stickiness).
	CookieApp = "AWSALBAPP-0"
)

// ServerHeader is what the LB's own responses carry.
const ServerHeader = "awselb/2.0"

type transportKey struct {
	h2   bool
	tls  bool
	idle time.Duration
}

// connectError marks a failure to connect to a target (502, or 504 when
// the connect timed out).
type connectError struct{ err error }

func (c *connectError) Error() string { return c.err.Error() }
func (c *connectError) Unwrap() error { return c.err }

var errDrained = errors.New("lb: the target's deregistration delay has ended")

// trackedConn is a connection to a target, closed with the target's
// others when what it has in flight must be cut.
type trackedConn struct {
	net.Conn
	t    *targetRT
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() { c.t.removeConn(c) })
	return c.Conn.Close()
}

// newTransport returns a connection pool towards one target.
func (e *Engine) newTransport(t *targetRT, k transportKey) *targetTransport {
	d := &net.Dialer{Timeout: e.cfg.ConnectTimeout, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if t.drain.Load().ctx.Err() != nil {
			// Drained: what was cut is not retried on a new connection.
			return nil, errDrained
		}
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, &connectError{err}
		}
		tc := &trackedConn{Conn: c, t: t}
		t.addConn(tc)
		if t.drain.Load().ctx.Err() != nil {
			tc.Close() // cut while dialling
			return nil, errDrained
		}
		return tc, nil
	}
	tr := &http.Transport{
		DialContext:           dial,
		MaxIdleConns:          0, // no limit overall
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       55 * time.Second,
		ResponseHeaderTimeout: k.idle,
		TLSHandshakeTimeout:   10 * time.Second,
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // ALB does not verify target certificates
		DisableCompression:    true,
		ExpectContinueTimeout: time.Second,
		WriteBufferSize:       32 << 10,
		ReadBufferSize:        32 << 10,
	}
	if k.h2 {
		var p http.Protocols
		if k.tls {
			p.SetHTTP2(true)
		} else {
			p.SetUnencryptedHTTP2(true)
		}
		tr.Protocols = &p
	}
	out := &targetTransport{std: tr}
	if !k.h2 && !k.tls {
		out.fast = &h1Pool{dial: dial, headerTimeout: k.idle, idleTimeout: tr.IdleConnTimeout, maxIdle: tr.MaxIdleConnsPerHost}
	}
	return out
}

type ctxKey struct{}

// reqState is what the proxy needs of a request being forwarded.
type reqState struct {
	view   *listenerView
	group  *groupView
	target *targetRT
	client netip.AddrPort
}

type bufPool struct{ p sync.Pool }

func (b *bufPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, 32<<10)
}

func (b *bufPool) Put(buf []byte) { b.p.Put(&buf) }

type dispatch struct{}

func (dispatch) RoundTrip(r *http.Request) (*http.Response, error) {
	st := r.Context().Value(ctxKey{}).(*reqState)
	return st.target.tr.Load().RoundTrip(r)
}

func (e *Engine) newReverseProxy() http.Handler {
	return &httputil.ReverseProxy{
		Transport:  dispatch{},
		BufferPool: &bufPool{},
		Rewrite: func(pr *httputil.ProxyRequest) {
			st := pr.In.Context().Value(ctxKey{}).(*reqState)
			out := pr.Out
			out.URL.Scheme = st.group.scheme
			out.URL.Host = st.target.host
			// Host is kept as the client sent it (ALB forwards it).
			lb := st.view.lb
			ip := st.client.Addr().Unmap().String()
			switch lb.XFFMode {
			case "preserve":
				if v := pr.In.Header.Values("X-Forwarded-For"); len(v) > 0 {
					out.Header["X-Forwarded-For"] = v
				}
			case "remove":
			default:
				if lb.XFFClientPort {
					ip = st.client.String()
				}
				if prior := pr.In.Header.Values("X-Forwarded-For"); len(prior) > 0 {
					ip = strings.Join(prior, ", ") + ", " + ip
				}
				out.Header.Set("X-Forwarded-For", ip)
			}
			out.Header.Set("X-Forwarded-Proto", st.view.scheme)
			out.Header.Set("X-Forwarded-Port", st.view.portStr)
			var rnd [12]byte
			a, b := rand.Uint64(), rand.Uint32()
			for i := range 8 {
				rnd[i] = byte(a >> (8 * i))
			}
			for i := range 4 {
				rnd[8+i] = byte(b >> (8 * i))
			}
			out.Header.Set("X-Amzn-Trace-Id", lbrule.TraceID(pr.In.Header.Get("X-Amzn-Trace-Id"), e.now(), rnd))
			if lb.DropInvalidHeaders {
				for name := range out.Header {
					if !validHeaderName(name) {
						delete(out.Header, name)
					}
				}
			}
			if _, ok := out.Header["User-Agent"]; !ok {
				out.Header["User-Agent"] = nil // do not add Go's
			}
		},
		ModifyResponse: func(resp *http.Response) error {
			st := resp.Request.Context().Value(ctxKey{}).(*reqState)
			cfg := st.group.cfg
			if cfg.StickinessType != "app_cookie" || cfg.StickinessDuration <= 0 || cfg.AppCookieName == "" {
				return nil
			}
			for _, c := range resp.Cookies() {
				if c.Name == cfg.AppCookieName {
					e.setCookieHeader(resp.Header, CookieApp, cfg.ARN, st.target.host, cfg.StickinessDuration, e.now())
					break
				}
			}
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			st := r.Context().Value(ctxKey{}).(*reqState)
			var ce *connectError
			var ne net.Error
			switch {
			case st.target.drain.Load().ctx.Err() != nil:
				writeError(w, http.StatusBadGateway) // cut at the end of the deregistration delay
			case errors.As(err, &ce):
				if errors.As(ce.err, &ne) && ne.Timeout() {
					writeError(w, http.StatusGatewayTimeout)
				} else {
					writeError(w, http.StatusBadGateway)
				}
			case r.Context().Err() != nil:
				// The client went away (ALB logs 460); nobody reads this.
				w.WriteHeader(460)
			case errors.As(err, &ne) && ne.Timeout():
				writeError(w, http.StatusGatewayTimeout)
			default:
				writeError(w, http.StatusBadGateway)
			}
		},
	}
}

var statusText = map[int]string{
	400: "400 Bad Request", 405: "405 Method Not Allowed", 404: "404 Not Found",
	463: "463", 464: "464",
	500: "500 Internal Server Error", 501: "501 Not Implemented",
	502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out",
	301: "301 Moved Permanently", 302: "302 Found",
}

// writeError writes one of ALB's own error pages.
func writeError(w http.ResponseWriter, code int) {
	text := statusText[code]
	if text == "" {
		text = strconv.Itoa(code) + " " + http.StatusText(code)
	}
	body := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n"
	h := w.Header()
	h.Set("Server", ServerHeader)
	h.Set("Content-Type", "text/html")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(code)
	_, _ = w.Write([]byte(body))
}

// ServeHTTP serves one request of an ALB listener.
func (l *listener) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	e := l.e
	v := l.view.Load()
	if r.Method == http.MethodTrace {
		writeError(w, http.StatusMethodNotAllowed)
		return
	}
	if te := r.TransferEncoding; len(te) > 0 && te[0] != "chunked" && te[0] != "identity" {
		writeError(w, http.StatusNotImplemented)
		return
	}
	if xff := r.Header.Values("X-Forwarded-For"); len(xff) > 0 && v.lb.XFFMode != "remove" {
		n := 0
		for _, x := range xff {
			n += strings.Count(x, ",") + 1
		}
		if n > 30 {
			writeError(w, 463) // more than 30 addresses in X-Forwarded-For
			return
		}
	}
	client, _ := netip.ParseAddrPort(r.RemoteAddr)
	host := r.Host
	rq := lbrule.Request{Method: r.Method, Host: host, Path: r.URL.Path, Header: r.Header, RawQuery: r.URL.RawQuery, SourceIP: client.Addr()}
	i := v.rules.Match(&rq)
	if i < 0 {
		writeError(w, http.StatusServiceUnavailable)
		return
	}
	a := &v.actions[i]
	switch a.kind {
	case lbconfig.ActionFixedResponse:
		h := w.Header()
		h.Set("Server", ServerHeader)
		ct := a.fixed.ContentType
		if ct == "" {
			ct = "text/plain; charset=utf-8"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(a.fixed.MessageBody)))
		w.WriteHeader(a.fixed.StatusCode)
		_, _ = w.Write([]byte(a.fixed.MessageBody))
		return
	case lbconfig.ActionRedirect:
		loc := lbrule.RedirectURL(a.redirect, lbrule.RedirectInput{Protocol: v.scheme, Host: host, Port: v.port, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery})
		w.Header().Set("Location", loc)
		code := a.redirect.StatusCode
		if code != http.StatusFound {
			code = http.StatusMovedPermanently
		}
		writeError(w, code)
		return
	}
	now := e.now()
	g := l.chooseGroup(w, r, a, now)
	if g == nil || len(g.registered) == 0 {
		writeError(w, http.StatusServiceUnavailable)
		return
	}
	if pv := g.cfg.ProtocolVersion; (pv == "HTTP2" || pv == "GRPC") && r.ProtoMajor != 2 ||
		pv == "GRPC" && !strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		writeError(w, 464) // the request's protocol does not fit the group's protocol version
		return
	}
	t := l.stickyTarget(w, r, g, now)
	if t == nil {
		t = g.pick(now)
		if t == nil {
			writeError(w, http.StatusServiceUnavailable)
			return
		}
		if g.cfg.StickinessType == "lb_cookie" && g.cfg.StickinessDuration > 0 {
			e.setCookie(w, CookieTarget, g.cfg.ARN, t.host, g.cfg.StickinessDuration, now)
		}
	}
	t.outstanding.Add(1)
	defer t.outstanding.Add(-1)
	ctx := context.WithValue(r.Context(), ctxKey{}, &reqState{view: v, group: g, target: t, client: client})
	e.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// chooseGroup picks the target group of a forward action: the one the
// AWSALBTG cookie names when target-group stickiness is on and it is still
// weighted, else by weight.
func (l *listener) chooseGroup(w http.ResponseWriter, r *http.Request, a *action, now time.Time) *groupView {
	if len(a.groups) == 1 {
		return a.groups[0]
	}
	if a.stickiness > 0 {
		if c, err := r.Cookie(CookieTargetGroup); err == nil {
			if arn, _, ok := l.e.openCookie(CookieTargetGroup, c.Value, now); ok {
				for i, g := range a.groups {
					if g.cfg.ARN == arn && a.weights[i] > 0 {
						l.e.setCookie(w, CookieTargetGroup, arn, "", a.stickiness, now)
						return g
					}
				}
			}
		}
	}
	i := lbrule.ChooseWeighted(a.weights, rand.Uint64())
	if i < 0 {
		return nil
	}
	if a.stickiness > 0 {
		l.e.setCookie(w, CookieTargetGroup, a.groups[i].cfg.ARN, "", a.stickiness, now)
	}
	return a.groups[i]
}

// stickyTarget returns the target the AWSALB cookie names when it is
// still eligible, refreshing the cookie, or nil.
func (l *listener) stickyTarget(w http.ResponseWriter, r *http.Request, g *groupView, now time.Time) *targetRT {
	name := CookieTarget
	switch {
	case g.cfg.StickinessDuration <= 0:
		return nil
	case g.cfg.StickinessType == "lb_cookie":
	case g.cfg.StickinessType == "app_cookie" && g.cfg.AppCookieName != "":
		name = CookieApp
	default:
		return nil
	}
	c, err := r.Cookie(name)
	if err != nil {
		return nil
	}
	arn, host, ok := l.e.openCookie(name, c.Value, now)
	if !ok || arn != g.cfg.ARN {
		return nil
	}
	t := g.byHost[host]
	if t == nil || !g.isEligible(t) {
		return nil
	}
	if name == CookieTarget {
		l.e.setCookie(w, CookieTarget, arn, host, g.cfg.StickinessDuration, now)
	}
	return t
}

// setCookie sets a sealed stickiness cookie naming a group (and target),
// valid for d from now; the cookie itself lasts 7 days (ALB's).
func (e *Engine) setCookie(w http.ResponseWriter, name, arn, host string, d time.Duration, now time.Time) {
	e.setCookieHeader(w.Header(), name, arn, host, d, now)
}

func (e *Engine) setCookieHeader(h http.Header, name, arn, host string, d time.Duration, now time.Time) {
	plain := strconv.FormatInt(now.Add(d).Unix(), 10) + "\x00" + arn + "\x00" + host
	nonce := make([]byte, e.aead.NonceSize(), e.aead.NonceSize()+len(plain)+e.aead.Overhead())
	a, b := rand.Uint64(), rand.Uint32()
	for i := range 8 {
		nonce[i] = byte(a >> (8 * i))
	}
	for i := 8; i < len(nonce); i++ {
		nonce[i] = byte(b >> (8 * (i - 8)))
	}
	sealed := e.aead.Seal(nonce, nonce, []byte(plain), []byte(name))
	c := &http.Cookie{Name: name, Value: base64.RawURLEncoding.EncodeToString(sealed), Path: "/", Expires: now.Add(7 * 24 * time.Hour)}
	h.Add("Set-Cookie", c.String())
}

// openCookie returns the group and target a sealed cookie names, if it
// is authentic and not expired.
func (e *Engine) openCookie(name, v string, now time.Time) (arn, host string, ok bool) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) < e.aead.NonceSize() {
		return "", "", false
	}
	plain, err := e.aead.Open(nil, raw[:e.aead.NonceSize()], raw[e.aead.NonceSize():], []byte(name))
	if err != nil {
		return "", "", false
	}
	parts := strings.SplitN(string(plain), "\x00", 3)
	if len(parts) != 3 {
		return "", "", false
	}
	exp, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || now.Unix() > exp {
		return "", "", false
	}
	return parts[1], parts[2], true
}

// validHeaderName reports whether name holds only letters, digits and
// hyphens (routing.http.drop_invalid_header_fields).
func validHeaderName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return name != ""
}

package dnsserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"berth.dev/berth/internal/dnsconfig"
	"berth.dev/berth/internal/dnszone"
)

// UDPSize is the EDNS0 payload size the server advertises and the most a
// UDP response carries (the DNS flag day 2020 figure).
const UDPSize = 1232

// Options configure a Server.
type Options struct {
	// Forward is the upstream resolvers ("host:port") asked for names
	// outside the zones and Hosts, in order; empty answers REFUSED for
	// those names.
	Forward []string
	// ForwardTimeout bounds one exchange with one upstream (default 2s).
	ForwardTimeout time.Duration
	Log            *slog.Logger
}

// Server is a DNS server. Its zero value is not usable; call New.
type Server struct {
	opts  Options
	log   *slog.Logger
	index atomic.Pointer[dnszone.Index]

	udpClient, tcpClient *dns.Client

	mu      sync.Mutex
	addr    string
	udp     *dns.Server
	tcp     *dns.Server
	done    chan error
	baseCtx context.Context
	cancel  context.CancelFunc
}

// New returns a server with an empty configuration (every name is
// forwarded) that listens nowhere until Start.
func New(opts Options) *Server {
	if opts.ForwardTimeout == 0 {
		opts.ForwardTimeout = 2 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:      opts,
		log:       opts.Log.With("component", "dnsserver"),
		udpClient: &dns.Client{Net: "udp", UDPSize: dns.MaxMsgSize, Timeout: opts.ForwardTimeout},
		tcpClient: &dns.Client{Net: "tcp", Timeout: opts.ForwardTimeout},
	}
	s.baseCtx, s.cancel = context.WithCancel(context.Background())
	empty, _ := dnszone.Compile(nil)
	s.index.Store(empty)
	return s
}

// Apply installs cfg unless its Revision is lower than the installed one.
// The error lists the parts of cfg left out (bad records); the rest is
// installed all the same.
func (s *Server) Apply(cfg *dnsconfig.Config) error { return s.install(cfg, false) }

// Replace installs cfg whatever its Revision (a stream's first
// configuration is the server's truth, even after the control plane's
// state was rebuilt with lower revisions).
func (s *Server) Replace(cfg *dnsconfig.Config) error { return s.install(cfg, true) }

func (s *Server) install(cfg *dnsconfig.Config, force bool) error {
	x, err := dnszone.Compile(cfg)
	for {
		cur := s.index.Load()
		if !force && x.Revision() < cur.Revision() {
			return nil
		}
		if s.index.CompareAndSwap(cur, x) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("dns configuration %d installed in part: %w", x.Revision(), err)
	}
	return nil
}

// Revision is the installed configuration's revision.
func (s *Server) Revision() uint64 { return s.index.Load().Revision() }

// Start listens on addr ("host:port"; port 0 picks one) over UDP and TCP
// on the same port and serves until Close. A server starts once.
func (s *Server) Start(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.udp != nil {
		return errors.New("dns server already started")
	}
	if s.baseCtx.Err() != nil {
		return errors.New("dns server closed")
	}
	pc, ln, err := listen(addr)
	if err != nil {
		return err
	}
	s.addr = pc.LocalAddr().String()
	s.done = make(chan error, 2)
	started := make(chan struct{}, 2)
	notify := func() { started <- struct{}{} }
	s.udp = &dns.Server{PacketConn: pc, Handler: s, MsgAcceptFunc: accept, UDPSize: dns.MaxMsgSize, NotifyStartedFunc: notify}
	s.tcp = &dns.Server{Listener: ln, Handler: s, MsgAcceptFunc: accept, NotifyStartedFunc: notify,
		ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: func() time.Duration { return 10 * time.Second }}
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		go func() { s.done <- srv.ActivateAndServe() }()
	}
	for range 2 {
		select {
		case <-started:
		case err := <-s.done:
			s.closeLocked()
			return fmt.Errorf("dns server on %s: %w", addr, err)
		}
	}
	s.log.Info("dns server listening", "addr", s.addr)
	return nil
}

// listen binds UDP on addr, then TCP on the port UDP got.
func listen(addr string) (net.PacketConn, net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dns listen address %q: %w", addr, err)
	}
	var lastErr error
	for range 10 {
		pc, err := net.ListenPacket("udp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("dns listen udp %s: %w", addr, err)
		}
		_, got, _ := net.SplitHostPort(pc.LocalAddr().String())
		ln, err := net.Listen("tcp", net.JoinHostPort(host, got))
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		lastErr = err
		if port != "0" {
			break // a fixed port: retrying cannot help
		}
	}
	return nil, nil, fmt.Errorf("dns listen tcp %s: %w", addr, lastErr)
}

// Addr is the bound address ("host:port", the same for UDP and TCP); ""
// before Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Close stops listening, waits for the listeners to stop and cancels the
// forwarded exchanges in flight. Apply and Replace still work after Close,
// Start does not.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closeLocked()
}

func (s *Server) closeLocked() error {
	s.cancel()
	if s.udp == nil {
		return nil
	}
	var errs []error
	for _, srv := range []*dns.Server{s.udp, s.tcp} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.ShutdownContext(ctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			errs = append(errs, err)
		}
		cancel()
	}
	s.udp, s.tcp = nil, nil
	return errors.Join(errs...)
}

// ListenAndServe serves on addr until ctx ends; ready, when not nil, is
// called with the bound address once the server answers.
func (s *Server) ListenAndServe(ctx context.Context, addr string, ready func(addr string)) error {
	if err := s.Start(addr); err != nil {
		return err
	}
	if ready != nil {
		ready(s.Addr())
	}
	<-ctx.Done()
	return s.Close()
}

// accept is the first look at a message: responses are dropped (answering
// them can loop), opcodes other than QUERY get NOTIMP, the rest reaches
// ServeDNS (which checks the question count).
func accept(dh dns.Header) dns.MsgAcceptAction {
	const qrBit = 1 << 15
	if dh.Bits&qrBit != 0 {
		return dns.MsgIgnore
	}
	if opcode := int(dh.Bits>>11) & 0xF; opcode != dns.OpcodeQuery {
		return dns.MsgRejectNotImplemented
	}
	return dns.MsgAccept
}

// globalRand is the routing policies' randomness: math/rand/v2's
// per-thread generator, safe for concurrent use.
type globalRand struct{}

func (globalRand) IntN(n int) int { return rand.IntN(n) }

// ServeDNS answers one request (dns.Handler).
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	udp := isUDP(w)
	resp := s.answer(req, udp)
	if resp == nil {
		return
	}
	if err := w.WriteMsg(resp); err != nil {
		s.log.Debug("dns response not written", "err", err)
	}
}

func isUDP(w dns.ResponseWriter) bool {
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	return !tcp
}

// answer builds the response to req, cut to size for UDP; nil sends
// nothing.
func (s *Server) answer(req *dns.Msg, udp bool) *dns.Msg {
	if req.Response {
		return nil
	}
	m := new(dns.Msg)
	if req.Opcode != dns.OpcodeQuery {
		m.SetRcode(req, dns.RcodeNotImplemented)
		return m
	}
	opt := req.IsEdns0()
	if len(req.Question) != 1 {
		m.SetRcode(req, dns.RcodeFormatError)
		m.Question = nil
		return withEDNS(m, opt)
	}
	if opt != nil && opt.Version() != 0 {
		m.SetRcode(req, dns.RcodeBadVers)
		return withEDNS(m, opt)
	}
	size := dns.MaxMsgSize
	if udp {
		size = dns.MinMsgSize
		if opt != nil {
			size = max(dns.MinMsgSize, min(int(opt.UDPSize()), UDPSize))
		}
	}
	q := req.Question[0]
	r := s.index.Load().Answer(dnszone.Question{Name: q.Name, Type: q.Qtype, Class: q.Qclass}, globalRand{})
	if r.Forward {
		m = s.forward(req)
	} else {
		m.SetReply(req)
		m.Authoritative = r.Authoritative
		m.Rcode = r.Rcode
		m.Answer = convert(m.Answer, r.Answer)
		m.Ns = convert(m.Ns, r.Authority)
		m.Extra = convert(m.Extra, r.Additional)
	}
	m.RecursionAvailable = len(s.opts.Forward) > 0
	m.RecursionDesired = req.RecursionDesired
	// EDNS0: answer with ours when the client sent one, else none.
	m.Extra = dropOPT(m.Extra)
	m = withEDNS(m, opt)
	if udp {
		m.Truncate(size)
	}
	m.Compress = true
	return m
}

func withEDNS(m *dns.Msg, opt *dns.OPT) *dns.Msg {
	if opt != nil {
		m.SetEdns0(UDPSize, opt.Do())
		if m.Rcode > 0xF { // extended rcode: the upper bits travel in the OPT
			m.IsEdns0().SetExtendedRcode(uint16(m.Rcode))
		}
	}
	return m
}

func dropOPT(rrs []dns.RR) []dns.RR {
	out := rrs[:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

func convert(out []dns.RR, rrs []dnszone.RR) []dns.RR {
	if len(rrs) == 0 {
		return out
	}
	out = slices.Grow(out, len(rrs))
	// One allocation for the A records and their addresses, the common
	// case of a large answer.
	var as []dns.A
	var ips []byte
	for _, rr := range rrs {
		h := dns.RR_Header{Name: rr.Name, Rrtype: rr.Type, Class: dns.ClassINET, Ttl: rr.TTL}
		switch rr.Type {
		case dns.TypeA:
			if as == nil {
				as, ips = make([]dns.A, 0, len(rrs)), make([]byte, 0, 4*len(rrs))
			}
			a := rr.Addr.As4()
			ips = append(ips, a[:]...)
			as = append(as, dns.A{Hdr: h, A: net.IP(ips[len(ips)-4 : len(ips) : len(ips)])})
			out = append(out, &as[len(as)-1])
		case dns.TypeAAAA:
			a := rr.Addr.As16()
			out = append(out, &dns.AAAA{Hdr: h, AAAA: net.IP(a[:])})
		case dns.TypeCNAME:
			out = append(out, &dns.CNAME{Hdr: h, Target: rr.Target})
		case dns.TypeNS:
			out = append(out, &dns.NS{Hdr: h, Ns: rr.Target})
		case dns.TypeSRV:
			out = append(out, &dns.SRV{Hdr: h, Priority: rr.Priority, Weight: rr.Weight, Port: rr.Port, Target: rr.Target})
		case dns.TypeSOA:
			o := rr.SOA
			out = append(out, &dns.SOA{Hdr: h, Ns: o.MName, Mbox: o.RName, Serial: o.Serial, Refresh: o.Refresh, Retry: o.Retry, Expire: o.Expire, Minttl: o.Minimum})
		}
	}
	return out
}

// forward asks the upstreams in order (UDP, then TCP when the UDP answer
// is truncated) and returns the first answer; SERVFAIL when every
// upstream fails, REFUSED when there is none.
func (s *Server) forward(req *dns.Msg) *dns.Msg {
	m := new(dns.Msg)
	if len(s.opts.Forward) == 0 {
		return m.SetRcode(req, dns.RcodeRefused)
	}
	q := req.Copy()
	q.Id = dns.Id()
	var errs []error
	for _, up := range s.opts.Forward {
		r, err := s.exchange(q, up)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Id = req.Id
		r.Question = req.Question // the client's spelling
		return r
	}
	s.log.Warn("every upstream resolver failed", "name", req.Question[0].Name, "err", errors.Join(errs...))
	return m.SetRcode(req, dns.RcodeServerFailure)
}

func (s *Server) exchange(q *dns.Msg, upstream string) (*dns.Msg, error) {
	ctx, cancel := context.WithTimeout(s.baseCtx, s.opts.ForwardTimeout)
	defer cancel()
	r, _, err := s.udpClient.ExchangeContext(ctx, q, upstream)
	if err == nil && r.Truncated {
		r, _, err = s.tcpClient.ExchangeContext(ctx, q, upstream)
	}
	if err != nil {
		return nil, fmt.Errorf("upstream %s: %w", upstream, err)
	}
	if len(r.Question) != 1 || !equalQuestion(r.Question[0], q.Question[0]) {
		return nil, fmt.Errorf("upstream %s: answered another question", upstream)
	}
	return r, nil
}

func equalQuestion(a, b dns.Question) bool {
	return a.Qtype == b.Qtype && a.Qclass == b.Qclass && dns.CanonicalName(a.Name) == dns.CanonicalName(b.Name)
}

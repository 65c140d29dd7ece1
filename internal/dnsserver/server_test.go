package dnsserver

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"berth.dev/berth/internal/dnsconfig"
)

func testConfig(rev uint64) *dnsconfig.Config {
	big := dnsconfig.RRSet{Name: "big.lb.berth.internal.", Type: dnsconfig.TypeA, TTL: 60}
	for i := range 60 {
		big.Records = append(big.Records, dnsconfig.Record{Value: fmt.Sprintf("10.9.0.%d", i+1), Healthy: true})
	}
	return &dnsconfig.Config{Revision: rev,
		Zones: []dnsconfig.Zone{{Name: "corp.local.",
			SOA: dnsconfig.SOA{MName: "ns-1.awsdns-1.net.", RName: "hostmaster.corp.local.", Serial: 1, Refresh: 7200, Retry: 900, Expire: 1209600, Minimum: 30, TTL: 900},
			NS:  []string{"ns-1.awsdns-1.net."},
			RRSets: []dnsconfig.RRSet{
				{Name: "backend.corp.local.", Type: dnsconfig.TypeA, TTL: 60, Routing: dnsconfig.RoutingMultivalue,
					Records: []dnsconfig.Record{{Value: "10.0.0.1", Healthy: true}, {Value: "10.0.0.2", Healthy: true}}},
				{Name: "_api._tcp.corp.local.", Type: dnsconfig.TypeSRV, TTL: 60, Routing: dnsconfig.RoutingMultivalue,
					Records: []dnsconfig.Record{{Value: "1 1 8080 i-1.corp.local.", Healthy: true}}},
				{Name: "i-1.corp.local.", Type: dnsconfig.TypeA, TTL: 60, Routing: dnsconfig.RoutingMultivalue,
					Records: []dnsconfig.Record{{Value: "10.0.0.1", Healthy: true}}},
			}}},
		Hosts: []dnsconfig.RRSet{big}}
}

// start runs a server on 127.0.0.1:0 with the test configuration.
func start(t *testing.T, opts Options) *Server {
	t.Helper()
	s := New(opts)
	if err := s.Apply(testConfig(5)); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

func ask(t *testing.T, net, addr, name string, qtype uint16, edns uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg).SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	c := &dns.Client{Net: net, UDPSize: dns.MaxMsgSize}
	r, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", net, name, dns.TypeToString[qtype], err)
	}
	return r
}

func TestAuthoritativeAnswers(t *testing.T) {
	s := start(t, Options{})
	for _, proto := range []string{"udp", "tcp"} {
		r := ask(t, proto, s.Addr(), "BackEnd.corp.LOCAL.", dns.TypeA, 0)
		if !r.Authoritative || r.Rcode != dns.RcodeSuccess || len(r.Answer) != 2 {
			t.Fatalf("%s A: %v", proto, r)
		}
		for _, rr := range r.Answer {
			if rr.Header().Name != "BackEnd.corp.LOCAL." {
				t.Fatalf("owner %q does not echo the question", rr.Header().Name)
			}
		}
		r = ask(t, proto, s.Addr(), "nope.corp.local.", dns.TypeA, 0)
		if r.Rcode != dns.RcodeNameError || !r.Authoritative || len(r.Ns) != 1 || r.Ns[0].Header().Ttl != 30 {
			t.Fatalf("%s NXDOMAIN: %v", proto, r)
		}
		r = ask(t, proto, s.Addr(), "_tcp.corp.local.", dns.TypeSRV, 0)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 || len(r.Ns) != 1 {
			t.Fatalf("%s NODATA: %v", proto, r)
		}
		r = ask(t, proto, s.Addr(), "_api._tcp.corp.local.", dns.TypeSRV, 1232)
		if len(r.Answer) != 1 || len(r.Extra) != 2 || r.IsEdns0() == nil || r.IsEdns0().UDPSize() != UDPSize {
			t.Fatalf("%s SRV with EDNS0: %v", proto, r)
		}
		r = ask(t, proto, s.Addr(), "corp.local.", dns.TypeSOA, 0)
		if soa, ok := r.Answer[0].(*dns.SOA); !ok || soa.Minttl != 30 || soa.Hdr.Ttl != 900 {
			t.Fatalf("%s SOA: %v", proto, r)
		}
		// No upstream: names outside the configuration are refused.
		r = ask(t, proto, s.Addr(), "example.com.", dns.TypeA, 0)
		if r.Rcode != dns.RcodeRefused {
			t.Fatalf("%s outside without upstreams: %v", proto, r)
		}
	}
}

func TestTruncationAndTCPRetry(t *testing.T) {
	s := start(t, Options{})
	r := ask(t, "udp", s.Addr(), "big.lb.berth.internal.", dns.TypeA, 0)
	if !r.Truncated || len(r.Answer) == 0 || len(r.Answer) >= 60 {
		t.Fatalf("UDP without EDNS0: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	r.Compress = true // as on the wire
	if b, _ := r.Pack(); len(b) > 512 {
		t.Fatalf("UDP response of %d bytes", len(b))
	}
	r = ask(t, "udp", s.Addr(), "big.lb.berth.internal.", dns.TypeA, 4096)
	if r.Truncated || len(r.Answer) != 60 {
		t.Fatalf("UDP with EDNS0 4096: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	r = ask(t, "udp", s.Addr(), "big.lb.berth.internal.", dns.TypeA, 600)
	r.Compress = true
	if b, _ := r.Pack(); !r.Truncated || len(b) > 600 || r.IsEdns0() == nil {
		t.Fatalf("UDP with EDNS0 600: tc=%v bytes=%d", r.Truncated, len(b))
	}
	r = ask(t, "tcp", s.Addr(), "big.lb.berth.internal.", dns.TypeA, 0)
	if r.Truncated || len(r.Answer) != 60 {
		t.Fatalf("TCP: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
}

func TestOpcodesEDNSAndRevisions(t *testing.T) {
	s := start(t, Options{})
	m := new(dns.Msg).SetQuestion("backend.corp.local.", dns.TypeA)
	m.Opcode = dns.OpcodeNotify
	r, err := dns.Exchange(m, s.Addr())
	if err != nil || r.Rcode != dns.RcodeNotImplemented {
		t.Fatalf("NOTIFY: %v %v", r, err)
	}
	m = new(dns.Msg).SetQuestion("backend.corp.local.", dns.TypeA)
	m.SetEdns0(1232, true)
	m.IsEdns0().SetVersion(1)
	r, err = dns.Exchange(m, s.Addr())
	if err != nil || r.Rcode != dns.RcodeBadVers {
		t.Fatalf("EDNS version 1: %v %v", r, err)
	}
	// An older revision is ignored; a newer one replaces.
	old := testConfig(4)
	old.Zones = nil
	if err := s.Apply(old); err != nil || s.Revision() != 5 {
		t.Fatalf("older applied: revision %d %v", s.Revision(), err)
	}
	if r := ask(t, "udp", s.Addr(), "backend.corp.local.", dns.TypeA, 0); len(r.Answer) != 2 {
		t.Fatalf("after the older revision: %v", r)
	}
	newer := testConfig(6)
	newer.Zones[0].RRSets = newer.Zones[0].RRSets[1:]
	if err := s.Apply(newer); err != nil || s.Revision() != 6 {
		t.Fatal(err)
	}
	if r := ask(t, "udp", s.Addr(), "backend.corp.local.", dns.TypeA, 0); r.Rcode != dns.RcodeNameError {
		t.Fatalf("after the newer revision: %v", r)
	}
}

// upstream is a fake resolver on loopback: A 192.0.2.1 for every name;
// for "big." a UDP answer that is truncated and a whole one over TCP.
func upstream(t *testing.T) string {
	t.Helper()
	h := dns.HandlerFunc(func(w dns.ResponseWriter, req *dns.Msg) {
		m := new(dns.Msg).SetReply(req)
		m.RecursionAvailable = true
		q := req.Question[0]
		n := 1
		if q.Name == "big." {
			n = 50
		}
		for i := range n {
			m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5}, A: net.IPv4(192, 0, 2, byte(i+1))})
		}
		if _, udp := w.LocalAddr().(*net.UDPAddr); udp && n > 1 {
			m.Answer, m.Truncated = m.Answer[:1], true
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: h}, {Listener: ln, Handler: h}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		go func() { _ = srv.ActivateAndServe() }()
		<-started
		t.Cleanup(func() { _ = srv.Shutdown() })
	}
	return pc.LocalAddr().String()
}

// deadAddr is a loopback UDP port nobody listens on.
func deadAddr(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestForwarding(t *testing.T) {
	up := upstream(t)
	s := start(t, Options{Forward: []string{deadAddr(t), up}})
	for _, proto := range []string{"udp", "tcp"} {
		r := ask(t, proto, s.Addr(), "Example.COM.", dns.TypeA, 0)
		if r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 || r.Question[0].Name != "Example.COM." || !r.RecursionAvailable {
			t.Fatalf("%s forwarded: %v", proto, r)
		}
	}
	// The upstream truncates over UDP: the server asks again over TCP and
	// gives a TCP client the whole answer, a UDP client what fits.
	if r := ask(t, "tcp", s.Addr(), "big.", dns.TypeA, 0); len(r.Answer) != 50 || r.Truncated {
		t.Fatalf("TCP forwarded big: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	if r := ask(t, "udp", s.Addr(), "big.", dns.TypeA, 0); !r.Truncated || len(r.Answer) >= 50 {
		t.Fatalf("UDP forwarded big: tc=%v answers=%d", r.Truncated, len(r.Answer))
	}
	// Zones are still answered locally.
	if r := ask(t, "udp", s.Addr(), "backend.corp.local.", dns.TypeA, 0); !r.Authoritative || len(r.Answer) != 2 {
		t.Fatalf("zone with upstreams: %v", r)
	}
}

func TestForwardingFailureIsServfail(t *testing.T) {
	s := start(t, Options{Forward: []string{deadAddr(t), deadAddr(t)}})
	if r := ask(t, "udp", s.Addr(), "example.com.", dns.TypeA, 0); r.Rcode != dns.RcodeServerFailure {
		t.Fatalf("all upstreams dead: %v", r)
	}
}

func TestStartCloseAndFixedPort(t *testing.T) {
	s := New(Options{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	addr := s.Addr()
	if strings.HasSuffix(addr, ":0") {
		t.Fatalf("bound address %s", addr)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Start("127.0.0.1:0"); err == nil {
		t.Fatal("a closed server started again")
	}
	// The port is free again: a new server takes it over UDP and TCP.
	s2 := New(Options{})
	if err := s2.Start(addr); err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if r := ask(t, "tcp", addr, "example.com.", dns.TypeA, 0); r.Rcode != dns.RcodeRefused {
		t.Fatalf("fresh server: %v", r)
	}
}

func TestResolvConf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(path, []byte("search corp\nnameserver 127.0.0.53\nnameserver 10.1.2.3\nnameserver ::1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := ResolvConf(path, "127.0.0.53:53")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"10.1.2.3:53", "[::1]:53"}; !slices.Equal(got, want) {
		t.Fatalf("listening on 127.0.0.53:53: %v, want %v", got, want)
	}
	got, _ = ResolvConf(path, "0.0.0.0:53")
	if want := []string{"10.1.2.3:53"}; !slices.Equal(got, want) {
		t.Fatalf("listening on every address: %v, want %v", got, want)
	}
	got, _ = ResolvConf(path, "127.0.0.53:5353")
	if len(got) != 3 {
		t.Fatalf("another port: %v", got)
	}
}

// serveRaw is the server's request path from raw bytes, as miekg/dns's
// server runs it: the header, the accept function, the message, the
// handler.
func serveRaw(s *Server, raw []byte, udp bool) []byte {
	if len(raw) < 12 {
		return nil // miekg/dns drops what has no header
	}
	dh := dns.Header{Id: binary.BigEndian.Uint16(raw), Bits: binary.BigEndian.Uint16(raw[2:])}
	req := new(dns.Msg)
	action := accept(dh)
	if action == dns.MsgAccept {
		if err := req.Unpack(raw); err != nil {
			action = dns.MsgReject
		}
	}
	var resp *dns.Msg
	switch action {
	case dns.MsgIgnore:
		return nil
	case dns.MsgReject, dns.MsgRejectNotImplemented:
		return []byte("rejected") // miekg/dns answers these itself
	default:
		resp = s.answer(req, udp)
	}
	if resp == nil {
		return nil
	}
	b, err := resp.Pack()
	if err != nil {
		panic(fmt.Sprintf("response does not pack: %v\n%v", err, resp))
	}
	return b
}

func FuzzServeDNS(f *testing.F) {
	s := New(Options{})
	if err := s.Apply(testConfig(1)); err != nil {
		f.Fatal(err)
	}
	for _, q := range []struct {
		name string
		t    uint16
		edns uint16
	}{{"backend.corp.local.", dns.TypeA, 0}, {"big.lb.berth.internal.", dns.TypeA, 0}, {"_api._tcp.corp.local.", dns.TypeSRV, 1232},
		{"corp.local.", dns.TypeANY, 600}, {"nope.corp.local.", dns.TypeAAAA, 0}, {"example.com.", dns.TypeA, 0}} {
		m := new(dns.Msg).SetQuestion(q.name, q.t)
		if q.edns > 0 {
			m.SetEdns0(q.edns, true)
		}
		b, _ := m.Pack()
		f.Add(b, true)
	}
	f.Fuzz(func(t *testing.T, raw []byte, udp bool) {
		out := serveRaw(s, raw, udp)
		if out == nil || string(out) == "rejected" {
			return
		}
		var resp dns.Msg
		if err := resp.Unpack(out); err != nil {
			t.Fatalf("response does not unpack: %v", err)
		}
		if resp.Id != binary.BigEndian.Uint16(raw) || !resp.Response {
			t.Fatalf("response %v to id %d", resp.MsgHdr, binary.BigEndian.Uint16(raw))
		}
		if udp && len(out) > UDPSize {
			t.Fatalf("UDP response of %d bytes", len(out))
		}
		if udp && len(out) > dns.MinMsgSize && resp.IsEdns0() == nil {
			t.Fatalf("UDP response of %d bytes without EDNS0", len(out))
		}
	})
}

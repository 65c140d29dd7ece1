package lb

import (
	"context"
	"crypto/tls"
	"errors"
	"hash/fnv"
	"io"
	"net"
	"os"
	"sync/atomic"
	"time"

	"berth.dev/berth/internal/lbconfig"
	"berth.dev/berth/internal/lbrule"
)

// acceptTCP serves an NLB listener: every connection is proxied to one
// target chosen by flow hash.
func (l *listener) acceptTCP(sock net.Listener) {
	for {
		c, err := sock.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return
		}
		l.cmu.Lock()
		if l.conns == nil {
			l.conns = map[net.Conn]struct{}{}
		}
		l.conns[c] = struct{}{}
		l.cwg.Add(1)
		l.cmu.Unlock()
		go func() {
			defer l.cwg.Done()
			defer func() {
				l.cmu.Lock()
				delete(l.conns, c)
				l.cmu.Unlock()
			}()
			l.serveTCP(c)
		}()
	}
}

func (l *listener) serveTCP(c net.Conn) {
	defer c.Close()
	e := l.e
	v := l.view.Load()
	if tc, ok := c.(*tls.Conn); ok {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			return
		}
	}
	if len(v.actions) == 0 {
		return
	}
	a := &v.actions[len(v.actions)-1]
	if len(v.actions) > 1 {
		if ap, err := netipAddrPort(c.RemoteAddr()); err == nil {
			if i := v.rules.Match(&lbrule.Request{SourceIP: ap.Addr()}); i >= 0 {
				a = &v.actions[i]
			}
		}
	}
	if a.kind != lbconfig.ActionForward {
		return
	}
	h := fnv.New64a()
	src := c.RemoteAddr().String()
	i := lbrule.ChooseWeighted(a.weights, flowHash(h, src, c.LocalAddr().String()))
	if i < 0 {
		return
	}
	g := a.groups[i]
	var buf [16]*targetRT
	ts := g.eligible(buf[:])
	if len(ts) == 0 {
		return
	}
	var fh uint64
	if g.cfg.StickinessType == "source_ip" && g.cfg.StickinessDuration > 0 {
		host, _, _ := net.SplitHostPort(src)
		fh = flowHash(h, host, "")
	} else {
		fh = flowHash(h, src, c.LocalAddr().String()+"/"+g.cfg.ARN)
	}
	t := ts[fh%uint64(len(ts))]
	d := &net.Dialer{Timeout: e.cfg.ConnectTimeout}
	tc, err := d.DialContext(e.ctx, "tcp", t.host)
	if err != nil {
		return
	}
	if g.cfg.Protocol == lbconfig.ProtocolTLS {
		tc = tls.Client(tc, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // ELB does not verify target certificates
	}
	defer tc.Close()
	t.outstanding.Add(1)
	defer t.outstanding.Add(-1)
	t.addConn(tc)
	defer t.removeConn(tc)
	pipe(c, tc, v.idle)
}

func flowHash(h interface {
	io.Writer
	Sum64() uint64
	Reset()
}, a, b string) uint64 {
	h.Reset()
	_, _ = io.WriteString(h, a)
	_, _ = io.WriteString(h, "|")
	_, _ = io.WriteString(h, b)
	return h.Sum64()
}

// pipe copies both ways with half-close until both directions end or
// nothing moves for idle.
func pipe(a, b net.Conn, idle time.Duration) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		defer func() { done <- struct{}{} }()
		buf := make([]byte, 32<<10)
		for {
			_ = src.SetReadDeadline(time.Now().Add(idle))
			n, err := src.Read(buf)
			if n > 0 {
				last.Store(time.Now().UnixNano())
				if _, werr := dst.Write(buf[:n]); werr != nil {
					a.Close()
					b.Close()
					return
				}
			}
			if err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) && time.Since(time.Unix(0, last.Load())) < idle {
					continue // the other direction is active
				}
				if errors.Is(err, io.EOF) {
					closeWrite(dst)
					return
				}
				a.Close()
				b.Close()
				return
			}
		}
	}
	go cp(b, a)
	go cp(a, b)
	<-done
	<-done
}

func closeWrite(c net.Conn) {
	switch c := c.(type) {
	case interface{ CloseWrite() error }:
		_ = c.CloseWrite()
	default:
		c.Close()
	}
}

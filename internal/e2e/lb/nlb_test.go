package lb

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// TestNLBForwardsTCP: a network load balancer's TCP listener forwards
// connections to a TCP target group's target (a TCP echo server of the
// test) once its TCP health checks pass; bytes round-trip, on several
// connections at once, and a client's half-close reaches the target.
func TestNLBForwardsTCP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, 0)
	port := startTCPEcho(t)
	lbARN := e.newLB("tcp", elbtypes.LoadBalancerTypeEnumNetwork)
	tg := e.targetGroup("tcp", elbtypes.ProtocolEnumTcp, 7000, elbtypes.TargetTypeEnumIp, 0)
	e.register(tg, port)
	e.listener(lbARN, elbtypes.ProtocolEnumTcp, 7000, "", forward(tg))
	addr := e.waitActive(lbARN)
	e.waitInService(tg, 30*time.Second)

	errs := make(chan error, 4)
	for i := range cap(errs) {
		go func() { errs <- roundTrip(net.JoinHostPort(addr, "7000"), i) }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// roundTrip writes 64 KiB in a few writes on one connection and reads
// them back, then half-closes it and reads EOF.
func roundTrip(addr string, i int) error {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("connection %d: %w", i, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	want := bytes.Repeat(fmt.Appendf(nil, "connection %d says hello; ", i), 3000)[:64<<10]
	go func() {
		for b := want; len(b) > 0; b = b[min(len(b), 10000):] {
			if _, err := c.Write(b[:min(len(b), 10000)]); err != nil {
				return
			}
		}
	}()
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("connection %d: read back: %w", i, err)
	}
	if !bytes.Equal(got, want) {
		return fmt.Errorf("connection %d: the bytes came back changed", i)
	}
	// The client's half-close reaches the target, which ends the echo: the
	// client reads EOF.
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		return fmt.Errorf("connection %d: close write: %w", i, err)
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		return fmt.Errorf("connection %d: after the half-close read %d bytes, %v; want EOF", i, n, err)
	}
	return nil
}

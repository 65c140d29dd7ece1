package tasknet

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"berth.dev/berth/internal/dnstest"
	"berth.dev/berth/internal/hostaddr"
	"berth.dev/berth/internal/taskendpoint"
)

// TestTaskReachesTheTaskEndpoint: a task's DNS query to 169.254.170.2:53
// reaches the responder on its host's lo, even where INPUT drops
// everything else (berth's chain lets it through), and never leaves the
// host.
func TestTaskReachesTheTaskEndpoint(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	host := newNS(t, "host")
	dockerLike(t, host)
	h := newHost(t, host, "10.200.1.0/24", "10.200.0.0/16")
	host.sh(t, "iptables", "-P", "INPUT", "DROP")
	remove, err := hostaddr.Ensure(host.nl, taskendpoint.Addr, hostaddr.TaskEndpointLabel)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { remove() })
	if local, err := hostaddr.IsLocal(host.nl, taskendpoint.Addr); err != nil || !local {
		t.Fatalf("route to the endpoint is local: %v %v", local, err)
	}
	var srv *dnstest.Server
	if err := host.run(func() (err error) {
		srv, err = dnstest.Listen(net.JoinHostPort(taskendpoint.IP, "53"), map[string]netip.Addr{dnstest.ProbeName: dnstest.ProbeAddr}, nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() }) // the socket holds the namespace

	task := newNS(t, "t1")
	if _, err := h.Attach(ctx, "task-1", task.path, netip.MustParseAddr("10.200.1.2")); err != nil {
		t.Fatal(err)
	}
	var got netip.Addr
	if err := task.run(func() error {
		c, err := net.Dial("udp4", net.JoinHostPort(taskendpoint.IP, "53"))
		if err != nil {
			return err
		}
		defer c.Close()
		got, err = dnstest.QueryA(c, dnstest.ProbeName, 5*time.Second)
		return err
	}); err != nil || got != dnstest.ProbeAddr {
		t.Fatalf("query from the task: %v %v; the responder saw %v", got, err, srv.Queries())
	}
	if err := h.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
}

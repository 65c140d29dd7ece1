// Package nsdial dials TCP (or any net) connections from inside a network
// namespace, for tools and tests that talk to servers and tasks living in
// namespaces they made. The socket is made on an OS thread switched into
// the namespace; the caller's threads never change namespace, and the
// switched thread goes back to its own namespace and then ends with its
// goroutine (a main thread, which Go keeps, is never left behind).
package nsdial

import (
	"context"
	"net"
	"runtime"
	"strings"

	"github.com/vishvananda/netns"
)

// Path is the file of a namespace named by `ip netns add`, or ns itself
// when it is already a path (such as /proc/PID/ns/net).
func Path(ns string) string {
	if strings.Contains(ns, "/") {
		return ns
	}
	return "/var/run/netns/" + ns
}

// Dialer returns a DialContext that dials from namespace ns (a name or a
// path, see Path) with d's settings.
func Dialer(ns string, d net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	path := Path(ns)
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		type result struct {
			c   net.Conn
			err error
		}
		ch := make(chan result, 1)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
			orig, err := netns.Get()
			if err != nil {
				ch <- result{nil, err}
				return
			}
			defer orig.Close()
			defer netns.Set(orig)
			h, err := netns.GetFromPath(path)
			if err != nil {
				ch <- result{nil, err}
				return
			}
			defer h.Close()
			if err := netns.Set(h); err != nil {
				ch <- result{nil, err}
				return
			}
			c, err := d.DialContext(ctx, network, addr)
			ch <- result{c, err}
		}()
		r := <-ch
		return r.c, r.err
	}
}

// Package taskdns serves, for a test, what an agent host serves its tasks
// at the task endpoint's DNS port (internal/cli/taskdns.go): it makes the
// task endpoint (169.254.170.2) an address of the host, serves DNS on its
// port 53, and feeds that server from the berth server's DNS stream with a
// DNS node. The test holds internal/dnstest's lock of the address until it
// ends; the node stops, the server closes and the address goes (if the
// test added it) before the lock is released. Linux and root only.
package taskdns

import (
	"context"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"testing"

	"berth.dev/berth/internal/dnsnode"
	"berth.dev/berth/internal/dnsserver"
	"berth.dev/berth/internal/dnstest"
	"berth.dev/berth/internal/hostaddr"
	"berth.dev/berth/internal/taskendpoint"
)

// Config names the berth server the DNS node streams from.
type Config struct {
	Server, Region, AccessKeyID, SecretAccessKey string
	// StateDir keeps the node's last configuration.
	StateDir string
	Log      *slog.Logger
}

// Serve serves DNS at the task endpoint until the test ends.
func Serve(t testing.TB, c Config) {
	t.Helper()
	log := c.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dnstest.LockTaskEndpoint(t)
	cleanup, err := hostaddr.EnsureTaskEndpoint(log)
	if err != nil {
		t.Fatalf("task endpoint: %v", err)
	}
	t.Cleanup(func() {
		if err := cleanup(); err != nil {
			t.Errorf("remove the task endpoint: %v", err)
		}
	})
	listen := net.JoinHostPort(taskendpoint.IP, strconv.Itoa(taskendpoint.DNSPort))
	ds := dnsserver.New(dnsserver.Options{Log: log})
	if err := ds.Start(listen); err != nil {
		t.Fatalf("serve DNS at %s: %v", listen, err)
	}
	t.Cleanup(func() { ds.Close() })
	node := dnsnode.New(dnsnode.Config{Server: c.Server, Region: c.Region, AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		Node: "test", StateFile: filepath.Join(c.StateDir, "config.json"), DNS: ds, Log: log})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

package inproc

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/agent"
)

// InstanceID is a new random EC2-style instance ID (i- and 17 hex digits).
func InstanceID() string {
	return fmt.Sprintf("i-%017x", rand.Uint64()&0xfffffffffffffff)[:19]
}

// StartAgent makes an agent of c, runs it until the test ends and waits
// (30 s at most) until it is connected to its server. When the test ends
// the agent stops (the test fails unless it does within 30 s), then the
// containers of c.Driver labelled with c.InstanceID are removed and
// c.Driver is closed.
//
// stop stops the agent now, with the same check, and leaves its
// containers running; it does nothing the second time. An agent started
// again with the same DataDir and InstanceID (and a new runtime of the
// same state dir) is the same host restarted.
func StartAgent(t testing.TB, c agent.Config) (a *agent.Agent, stop func()) {
	t.Helper()
	drv, id := c.Driver, c.InstanceID
	t.Cleanup(func() {
		RemoveContainers(t, drv, id)
		if c, ok := drv.(io.Closer); ok {
			c.Close()
		}
	})
	a, err := agent.New(c)
	if err != nil {
		t.Fatalf("new agent: %v", err)
	}
	rc, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(rc) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case <-done:
			case <-time.After(30 * time.Second):
				t.Error("agent did not stop within 30s")
			}
		})
	}
	t.Cleanup(stop)
	select {
	case <-a.Connected():
	case err := <-done:
		t.Fatalf("agent ended before connecting: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("agent did not connect within 30s")
	}
	return a, stop
}

package docker_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/e2e/testimage"
	"github.com/moby/moby/client"
)

// healthWatch follows WatchHealth in the background and keeps its latest
// reading.
type healthWatch struct {
	mu     sync.Mutex
	latest string
	seen   map[string]bool
	done   chan struct{}
}

func watchHealth(e *env, h driver.Handle) *healthWatch { return watchHealthEvery(e, h, time.Second) }

// watchHealthEvery is watchHealth with WatchHealth's poll interval.
func watchHealthEvery(e *env, h driver.Handle, poll time.Duration) *healthWatch {
	ctx, cancel := context.WithCancel(e.ctx)
	w := &healthWatch{latest: "(no reading)", seen: map[string]bool{}, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		e.d.WatchHealth(ctx, h, poll, func(s string) {
			w.mu.Lock()
			w.latest, w.seen[s] = s, true
			w.mu.Unlock()
		})
	}()
	e.t.Cleanup(func() { cancel(); <-w.done })
	return w
}

// await waits (generously: the engine may be slow) until the reading is want.
func (w *healthWatch) await(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		w.mu.Lock()
		got := w.latest
		w.mu.Unlock()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("health %q, want %q", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// healthSpec is a container of the test application whose health check,
// run by the engine, is the application's health probe.
func (e *env) healthSpec(args ...string) driver.Spec {
	spec := e.spec(args...)
	spec.Ports = []driver.PortMapping{{ContainerPort: testimage.Port}}
	spec.HealthCheck = &driver.HealthCheck{
		Test:     []string{"CMD", testimage.BinaryInImage, "health", fmt.Sprintf("http://127.0.0.1:%d/health", testimage.Port)},
		Interval: time.Second,
		// Generous: a check that outlives it fails, and the engine may be slow.
		Timeout: time.Minute,
		Retries: 2,
	}
	return spec
}

func TestNativeHealthCheckHealthyThenUnhealthy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, st := e.run(e.healthSpec())
	w := watchHealth(e, h)
	w.await(t, "healthy")

	// The application's health endpoint fails from now on: the engine's
	// checks fail, and after the retries the container is unhealthy.
	url := fmt.Sprintf("http://127.0.0.1:%d", st.Bindings[0].HostPort)
	get(t, url+"/health")
	resp, err := http.Get(url + "/fail")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	w.await(t, "unhealthy")
}

// With polling out of the way, changes reach each watch through the
// driver's one shared events stream, and only the watch of the container
// that changed.
func TestHealthEventsReachWatchesWithoutPolling(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	type ctr struct {
		h   driver.Handle
		url string
		w   *healthWatch
	}
	var cs []*ctr
	for range 2 {
		h, st := e.run(e.healthSpec())
		cs = append(cs, &ctr{h: h, url: fmt.Sprintf("http://127.0.0.1:%d", st.Bindings[0].HostPort)})
	}
	for _, c := range cs {
		awaitEngineHealth(t, e, c.h, "healthy")
		c.w = watchHealthEvery(e, c.h, time.Hour) // reads once now, then on events only
		c.w.await(t, "healthy")
	}
	resp, err := http.Get(cs[0].url + "/fail")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cs[0].w.await(t, "unhealthy")
	cs[1].w.mu.Lock()
	defer cs[1].w.mu.Unlock()
	if cs[1].w.seen["unhealthy"] || cs[1].w.latest != "healthy" {
		t.Errorf("the other container's watch read %q (seen %v)", cs[1].w.latest, cs[1].w.seen)
	}
}

// awaitEngineHealth waits until the engine itself reports want.
func awaitEngineHealth(t *testing.T, e *env, h driver.Handle, want string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for {
		res, err := e.cli.ContainerInspect(e.ctx, h.ID, client.ContainerInspectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if hs := res.Container.State.Health; hs != nil && string(hs.Status) == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the engine's health is %+v, want %q", res.Container.State.Health, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestNativeHealthCheckUnhealthy(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.run(e.healthSpec("--unhealthy"))
	w := watchHealth(e, h)
	w.await(t, "unhealthy")
	w.mu.Lock()
	healthy := w.seen["healthy"]
	w.mu.Unlock()
	if healthy {
		t.Error("a container whose check always fails was read healthy")
	}

	// WatchHealth ends when the container is gone.
	if _, err := e.cli.ContainerRemove(e.ctx, h.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-w.done:
	case <-e.ctx.Done():
		t.Fatal("WatchHealth went on after the container was removed")
	}
}

func TestNoHealthCheckReadsNone(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	h, _ := e.run(e.spec())
	w := watchHealth(e, h)
	w.await(t, "")
}

// A container that exits before any check ran is not read unhealthy (the
// engine marks a stopped container unhealthy), and the watch ends.
func TestHealthWatchEndsWhenTheContainerExits(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	spec := e.healthSpec("--exit-after", "1s", "--exit-code", "1")
	spec.HealthCheck.Interval = time.Hour // no check runs before the exit
	h, _ := e.run(spec)
	w := watchHealth(e, h)
	select {
	case <-w.done:
	case <-e.ctx.Done():
		t.Fatal("WatchHealth went on after the container exited")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.seen["unhealthy"] {
		t.Errorf("an exited container was read unhealthy (readings: %v)", w.seen)
	}
	res, err := e.cli.ContainerInspect(e.ctx, h.ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Container.State.Running {
		t.Fatal("the container still runs")
	}
	t.Logf("the engine's health of the exited container: %+v", res.Container.State.Health)
}

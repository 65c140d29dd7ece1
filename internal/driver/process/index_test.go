//go:build linux

package process

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"berth.dev/berth/internal/driver"
)

func TestNameIndex(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, Options{StateDir: stateDir})
	spec := driver.Spec{Name: "ecs-app-1", Command: []string{"true"}}
	h := mustCreate(t, d, spec)
	if _, err := d.Create(ctxT(t), spec); !errors.Is(err, driver.ErrCannotCreate) {
		t.Fatalf("duplicate name: %v", err)
	}
	// A new driver on the state directory (an agent restart) rebuilds it.
	b := newDriver(t, Options{StateDir: stateDir})
	if _, err := b.Create(ctxT(t), spec); !errors.Is(err, driver.ErrCannotCreate) {
		t.Fatalf("duplicate name after a restart: %v", err)
	}
	if id, err := b.resolve(driver.Handle{Name: spec.Name}); err != nil || id != h.ID {
		t.Fatalf("resolve by name after a restart: %q, %v", id, err)
	}
	// Removing frees the name.
	if err := b.Remove(ctxT(t), h); err != nil {
		t.Fatal(err)
	}
	if _, err := b.resolve(driver.Handle{Name: spec.Name}); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("resolve a removed name: %v", err)
	}
	h2 := mustCreate(t, b, spec)
	// The first driver learns of the removal and of the new container when
	// it lists, or when it is asked by ID.
	if _, err := d.Inspect(ctxT(t), h); !errors.Is(err, driver.ErrNotFound) {
		t.Fatalf("inspect a container removed by another driver: %v", err)
	}
	if hs, err := d.List(ctxT(t)); err != nil || len(hs) != 1 || hs[0].ID != h2.ID {
		t.Fatalf("list: %+v, %v", hs, err)
	}
	if id, err := d.resolve(driver.Handle{Name: spec.Name}); err != nil || id != h2.ID {
		t.Fatalf("resolve by name: %q, %v", id, err)
	}
}

func TestNameIndexConcurrentCreates(t *testing.T) {
	d := newDriver(t, Options{})
	var ok, refused atomic.Int32
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			_, err := d.Create(ctxT(t), driver.Spec{Name: "same", Command: []string{"true"}})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, driver.ErrCannotCreate):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 1 || refused.Load() != 15 {
		t.Fatalf("%d created, %d refused; want 1 and 15", ok.Load(), refused.Load())
	}
	if hs, _ := d.List(ctxT(t)); len(hs) != 1 {
		t.Fatalf("list: %+v", hs)
	}
}

func TestIndexSkipsBrokenRecords(t *testing.T) {
	stateDir := t.TempDir()
	d := newDriver(t, Options{StateDir: stateDir})
	h := mustCreate(t, d, driver.Spec{Name: "good", Command: []string{"true"}})
	// A half-created container (a crash between mkdir and spec.json) and a
	// stray directory: neither is a container.
	os.Mkdir(d.dir("0123456789abcdef0123456789abcdef"), 0o700)
	os.Mkdir(d.dir("not-an-id"), 0o700)
	b := newDriver(t, Options{StateDir: stateDir})
	hs, err := b.List(ctxT(t))
	if err != nil || len(hs) != 1 || hs[0].ID != h.ID {
		t.Fatalf("list: %+v, %v", hs, err)
	}
}

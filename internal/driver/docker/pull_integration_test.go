package docker_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"berth.dev/berth/internal/driver"
)

// There is no registry here: every real pull fails, so these tests show
// which policies pull and which use the cached image.

func TestPullPresentImage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	state := t.TempDir()
	d := newDriver(t, e.ctx, state)
	for _, p := range []driver.PullPolicy{driver.PullDefault, "", driver.PullOnce, driver.PullPreferCached} {
		if err := d.Pull(e.ctx, e.image, p); err != nil {
			t.Errorf("policy %q with the image cached: %v", p, err)
		}
	}
	err := d.Pull(e.ctx, e.image, driver.PullAlways)
	if !errors.Is(err, driver.ErrCannotPull) || !strings.HasPrefix(err.Error(), "CannotPullContainerError: ") {
		t.Errorf("always without a registry: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(state, "pulled-images.json"))
	var rec map[string]json.RawMessage
	if err != nil || json.Unmarshal(b, &rec) != nil || rec[e.image] == nil {
		t.Errorf("once did not record the cached image: %s %v", b, err)
	}
	// Still usable after the failed pulls.
	h, _ := e.run(e.spec("--exit-code", "0"))
	if st := e.wait(h); st.ExitCode != 0 {
		t.Errorf("%+v", st)
	}
}

func TestPullMissingImage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	missing := "berth-no-such-image:" + randomHex(4)
	for _, p := range []driver.PullPolicy{driver.PullDefault, driver.PullAlways, driver.PullOnce, driver.PullPreferCached} {
		err := e.d.Pull(e.ctx, missing, p)
		if !errors.Is(err, driver.ErrCannotPull) || !strings.HasPrefix(err.Error(), "CannotPullContainerError: ") {
			t.Errorf("policy %q, missing image: %v", p, err)
		}
	}
	if err := e.d.Pull(e.ctx, e.image, "sometimes"); err == nil {
		t.Error("unknown policy accepted")
	}
	if err := e.d.Pull(e.ctx, "Not A Valid Reference", driver.PullDefault); !errors.Is(err, driver.ErrCannotPull) {
		t.Errorf("invalid reference: %v", err)
	}
}

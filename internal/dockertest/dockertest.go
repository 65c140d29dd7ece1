// Package dockertest is what tests that need a Docker engine share: the rule
// for when they run, and the test application's image.
//
// Invariants:
//   - A test that needs Docker calls RequireDocker first. When no engine
//     answers, the test is skipped, unless the environment sets
//     BERTH_REQUIRE_DOCKER=1 (CI does): then it fails.
//   - TestappImage gives each test its own image tag and removes it when the
//     test ends, after the test's later cleanups (containers) have run; the
//     image itself goes with its last tag.
package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"berth.dev/berth/internal/e2e/testimage"
	"github.com/moby/moby/client"
)

// EnvRequire names the environment variable that turns a missing engine
// from a skip into a failure.
const EnvRequire = "BERTH_REQUIRE_DOCKER"

// RequireDocker returns a client of the engine DOCKER_HOST names (default:
// the local socket), closed when the test ends. When the engine does not
// answer within 10 seconds it skips the test, or fails it when
// BERTH_REQUIRE_DOCKER=1.
func RequireDocker(t testing.TB) *client.Client {
	t.Helper()
	cli, err := client.New(client.FromEnv)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true})
		cancel()
		if err != nil {
			cli.Close()
		}
	}
	if err != nil {
		if os.Getenv(EnvRequire) == "1" {
			t.Fatalf("docker engine required (%s=1) but not reachable: %v", EnvRequire, err)
		}
		t.Skipf("no docker engine: %v (set %s=1 to fail instead)", err, EnvRequire)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// TestappImage requires Docker, builds the test application's image under a
// tag of its own (testimage.Build) and returns the tag, which is removed when
// the test ends.
func TestappImage(t testing.TB) string {
	t.Helper()
	RequireDocker(t)
	tag := "berth-testapp:t" + randomHex(6)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := testimage.Build(ctx, tag); err != nil {
		t.Fatalf("build test image: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := testimage.Remove(ctx, tag); err != nil {
			t.Errorf("remove test image: %v", err)
		}
	})
	return tag
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

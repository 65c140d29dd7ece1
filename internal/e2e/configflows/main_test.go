package configflows

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"berth.dev/berth/internal/e2e/berthdev"
)

// berthBin is the berth binary the tests run.
var berthBin string

const (
	testKeyID  = "AKIDCONFIGFLOWSTEST1"
	testSecret = "configflows-test-secret-0000000000000000"
	// repoRoot is the repository root, from this package's directory.
	repoRoot = "../../.."
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "berth-configflows-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	berthBin, err = berthdev.Build(ctx, dir)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

package testimage

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"time"
)

// Package is the import path of the test application.
const Package = "berth.dev/berth/internal/e2e/testapp"

// built caches the binary this process built.
var built struct {
	mu   sync.Mutex
	path string
	sum  string
}

// BinaryPath builds the test application for the host (static, CGO off) and
// returns the path of the binary. The first call in a process builds (the Go
// build cache makes that quick); later calls return the same path.
func BinaryPath(ctx context.Context) (string, error) {
	path, _, err := binary(ctx)
	return path, err
}

// binary returns the binary's path and its hex sha256.
func binary(ctx context.Context) (string, string, error) {
	built.mu.Lock()
	defer built.mu.Unlock()
	if built.path != "" {
		if _, err := os.Stat(built.path); err == nil {
			return built.path, built.sum, nil
		}
	}
	dir, err := cacheDir()
	if err != nil {
		return "", "", err
	}
	tmp, err := os.CreateTemp(dir, "build-*")
	if err != nil {
		return "", "", fmt.Errorf("testimage: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := goBuild(ctx, tmp.Name()); err != nil {
		return "", "", err
	}
	sum, err := fileSHA256(tmp.Name())
	if err != nil {
		return "", "", err
	}
	final := filepath.Join(dir, "berth-testapp-"+sum[:20])
	if _, err := os.Stat(final); err == nil {
		now := time.Now()
		os.Chtimes(final, now, now) // keep it out of pruneOld's reach
	} else if err := os.Rename(tmp.Name(), final); err != nil {
		return "", "", fmt.Errorf("testimage: %w", err)
	}
	pruneOld(dir, final)
	built.path, built.sum = final, sum
	return final, sum, nil
}

// cacheDir is a directory of this user's that survives between test runs.
func cacheDir() (string, error) {
	dir := filepath.Join(os.TempDir(), fmt.Sprintf("berth-testapp-%d", os.Getuid()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("testimage: %w", err)
	}
	return dir, nil
}

func goBuild(ctx context.Context, out string) error {
	gobin, err := exec.LookPath("go") // go test puts its own GOROOT/bin first on PATH
	if err != nil {
		return fmt.Errorf("testimage: %w", err)
	}
	cmd := exec.CommandContext(ctx, gobin, "build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", out, Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("testimage: go build %s: %w: %s", Package, err, bytes.TrimSpace(stderr.Bytes()))
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("testimage: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("testimage: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// pruneOld removes binaries of other versions not used for a week.
func pruneOld(dir, keep string) {
	old, _ := filepath.Glob(filepath.Join(dir, "berth-testapp-*"))
	for _, p := range old {
		if p == keep {
			continue
		}
		if fi, err := os.Stat(p); err == nil && time.Since(fi.ModTime()) > 7*24*time.Hour {
			os.Remove(p)
		}
	}
}

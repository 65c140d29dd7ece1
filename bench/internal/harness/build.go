package harness

import (
	"context"
	"crypto/rand"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// BuildBerth builds cmd/berth into dir with the go command of this
// toolchain. The binary keeps its symbols, so `perf` can profile it, and
// carries its VCS revision when built in a git checkout (-buildvcs=auto
// overrides a GOFLAGS=-buildvcs=false of the environment), so the report
// can name the commit measured.
func BuildBerth(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "berth")
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=auto", "-o", bin, "berth.dev/berth/cmd/berth")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build berth (run the bench from inside the berth module): %w", err)
	}
	return bin, nil
}

// BerthRevision reads the VCS stamp go build put in the berth binary: the
// revision's first 12 hex digits, "+dirty" when built from a modified tree;
// "" when the binary has none.
func BerthRevision(bin string) string {
	bi, err := buildinfo.ReadFile(bin)
	if err != nil {
		return ""
	}
	var rev, dirty string
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision":
			rev = kv.Value
		case "vcs.modified":
			if kv.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return ""
	}
	return rev + dirty
}

// RandomHex returns n random bytes as 2n hex digits.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

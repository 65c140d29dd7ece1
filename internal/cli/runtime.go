package cli

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/driver/process"
)

// openRuntime opens the named runtime driver ("docker", "process", or ""
// for docker when an engine answers, else process). It returns the driver,
// a sentence saying which runtime was chosen and why, and a close func.
func openRuntime(ctx context.Context, name, dataDir string, log *slog.Logger) (driver.Driver, string, func(), error) {
	switch name {
	case "docker":
		d, err := docker.New(ctx, docker.Options{StateDir: filepath.Join(dataDir, "docker"), Logger: log})
		if err != nil {
			return nil, "", nil, fmt.Errorf("docker runtime: %w", err)
		}
		return d, "docker (requested)", func() { d.Close() }, nil
	case "process":
		d, err := process.New(process.Options{StateDir: filepath.Join(dataDir, "process")})
		if err != nil {
			return nil, "", nil, fmt.Errorf("process runtime: %w", err)
		}
		return d, "process (requested)", func() {}, nil
	case "":
		pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		d, err := docker.New(pctx, docker.Options{StateDir: filepath.Join(dataDir, "docker"), Logger: log})
		cancel()
		if err == nil {
			return d, "docker (a Docker engine answered)", func() { d.Close() }, nil
		}
		p, perr := process.New(process.Options{StateDir: filepath.Join(dataDir, "process")})
		if perr != nil {
			return nil, "", nil, fmt.Errorf("no runtime: docker: %v; process: %w", err, perr)
		}
		return p, fmt.Sprintf("process (no Docker engine answered: %v)", err), func() {}, nil
	}
	return nil, "", nil, fmt.Errorf("--runtime %q: use docker or process", name)
}

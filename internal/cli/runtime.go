package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/demoimage"

	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/driver/docker"
	"berth.dev/berth/internal/driver/process"
)

// openRuntime opens the named runtime driver ("docker", "process", or ""
// for docker when an engine answers, else process). It returns the driver,
// a sentence saying which runtime was chosen and why, and a close func.
//
// images are the images the process runtime can run (process.Options.Images).
func openRuntime(ctx context.Context, name, dataDir string, log *slog.Logger, images map[string]process.Image) (driver.Driver, string, func(), error) {
	switch name {
	case "docker":
		d, err := docker.New(ctx, docker.Options{StateDir: filepath.Join(dataDir, "docker"), Logger: log})
		if err != nil {
			return nil, "", nil, fmt.Errorf("docker runtime: %w", err)
		}
		return d, "docker (requested)", func() { d.Close() }, nil
	case "process":
		d, err := process.New(process.Options{StateDir: filepath.Join(dataDir, "process"), Images: images})
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
		p, perr := process.New(process.Options{StateDir: filepath.Join(dataDir, "process"), Images: images})
		if perr != nil {
			return nil, "", nil, fmt.Errorf("no runtime: docker: %v; process: %w", err, perr)
		}
		return p, fmt.Sprintf("process (no Docker engine answered: %v)", err), func() {}, nil
	}
	return nil, "", nil, fmt.Errorf("--runtime %q: use docker or process", name)
}

// demoImages are the images berth dev's process runtime runs: the demo
// image, whose program is this binary.
func demoImages() map[string]process.Image {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	return map[string]process.Image{demoimage.Tag: {
		EntryPoint: demoimage.EntryPoint,
		Files:      map[string]string{demoimage.BinaryInImage: exe},
	}}
}

// ensureDemoImage makes the demo image on Docker when it is missing or of
// another berth binary, saying so on w; a failure is reported, not fatal.
func ensureDemoImage(ctx context.Context, w io.Writer, log *slog.Logger) {
	exe, err := os.Executable()
	if err == nil {
		var cli *client.Client
		if cli, err = client.New(client.FromEnv); err == nil {
			defer cli.Close()
			ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
			defer cancel()
			_, err = demoimage.Ensure(ctx, cli, demoimage.Tag, exe, w)
		}
	}
	if err != nil {
		log.Warn("cannot make the demo image; examples/demo.json will not start on Docker", "image", demoimage.Tag, "error", err)
	}
}

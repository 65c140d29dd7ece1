package docker

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"berth.dev/berth/internal/driver"
	"github.com/moby/moby/client"
)

// Options configures a Driver.
type Options struct {
	// Client talks to the engine. Nil: a client from the environment
	// (DOCKER_HOST, default the local socket), closed by Close.
	Client *client.Client
	// StateDir holds the record of pulled images (pulled-images.json).
	// Empty: the record lives in memory only.
	StateDir string
	// Logger receives warnings (engine warnings, pull fallbacks). Nil: discard.
	Logger *slog.Logger
	// PauseImage is the tag of the image of sandboxes' pause containers,
	// made from PauseBinary when the engine lacks it. Empty:
	// DefaultPauseImage().
	PauseImage string
	// PauseBinary is the berth binary the pause image holds; it must run
	// pause.Run when its first argument is "pause". Empty: os.Executable().
	PauseBinary string
}

// Driver runs containers on a Docker engine. It is safe for concurrent use.
type Driver struct {
	cli       *client.Client
	ownClient bool
	log       *slog.Logger
	pulled    *pullRecord
	healthEv  *healthEvents
	tasks     taskCgroups
	stats     driver.StatsHistory // previous samples (ContainerStats)

	pauseMu    sync.Mutex
	pauseTag   string
	pauseBin   string
	pauseReady bool // the engine has pauseTag, made from pauseBin
}

var _ driver.Driver = (*Driver)(nil)

// New returns a Driver once the engine answers a ping.
func New(ctx context.Context, opts Options) (*Driver, error) {
	d := &Driver{cli: opts.Client, log: opts.Logger, pauseTag: opts.PauseImage, pauseBin: opts.PauseBinary}
	if d.pauseTag == "" {
		d.pauseTag = DefaultPauseImage()
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.cli == nil {
		cli, err := client.New(client.FromEnv)
		if err != nil {
			return nil, fmt.Errorf("docker client: %w", err)
		}
		d.cli, d.ownClient = cli, true
	}
	if _, err := d.cli.Ping(ctx, client.PingOptions{NegotiateAPIVersion: true}); err != nil {
		d.Close()
		return nil, fmt.Errorf("docker engine: %w", err)
	}
	rec, err := loadPullRecord(opts.StateDir)
	if err != nil {
		d.Close()
		return nil, err
	}
	d.pulled = rec
	d.healthEv = newHealthEvents(d.cli, d.log)
	d.detectTaskCgroups(ctx)
	return d, nil
}

// Close releases the client when New created it.
func (d *Driver) Close() error {
	if d.ownClient {
		return d.cli.Close()
	}
	return nil
}

// Name is "docker".
func (d *Driver) Name() string { return "docker" }

// ref names a container to the engine: its ID, else its name.
func ref(h driver.Handle) string {
	if h.ID != "" {
		return h.ID
	}
	return h.Name
}

// SupportsDNS reports whether containers in network mode mode take DNS
// servers and search domains: not with the host's network (Docker refuses
// --dns with --network host) nor without a network.
func (d *Driver) SupportsDNS(mode string) bool {
	return mode != "host" && mode != "none"
}

var _ driver.DNSSupport = (*Driver)(nil)

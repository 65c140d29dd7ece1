package harness

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"
)

// Docker is the local Docker engine (DOCKER_HOST, else the socket).
type Docker struct {
	Cli     *client.Client
	Version string
}

// OpenDocker connects to the engine and reads its version.
func OpenDocker(ctx context.Context) (*Docker, error) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := cli.Info(pctx, client.InfoOptions{})
	if err != nil {
		cli.Close()
		return nil, err
	}
	return &Docker{Cli: cli, Version: info.Info.ServerVersion}, nil
}

// Close closes the connection to the engine.
func (d *Docker) Close() error { return d.Cli.Close() }

// RemoveLabelled force-removes every container (running or not) labelled
// key=value, and returns how many there were.
func (d *Docker) RemoveLabelled(ctx context.Context, key, value string) (int, error) {
	list, err := d.Cli.ContainerList(ctx, client.ContainerListOptions{All: true,
		Filters: make(client.Filters).Add("label", key+"="+value)})
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	var mu sync.Mutex
	var firstErr error
	for _, c := range list.Items {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if _, err := d.Cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return len(list.Items), firstErr
}

// SwarmSession is the engine's swarm membership for one run: joined by the
// bench (and left afterwards) or found active.
type SwarmSession struct {
	d           *Docker
	initialised bool
	hadGwbridge bool
}

// Initialised reports whether this session made the engine a swarm manager
// (and will leave the swarm again).
func (s *SwarmSession) Initialised() bool { return s != nil && s.initialised }

// JoinSwarm makes the engine a swarm manager: `docker swarm init` when it is
// in no swarm; nothing when it already manages one. It refuses when the
// engine is a worker or in another state. The duration is init's.
func (d *Docker) JoinSwarm(ctx context.Context) (*SwarmSession, time.Duration, error) {
	info, err := d.Cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return nil, 0, err
	}
	s := &SwarmSession{d: d}
	switch st := info.Info.Swarm.LocalNodeState; {
	case st == swarm.LocalNodeStateActive && info.Info.Swarm.ControlAvailable:
		return s, 0, nil
	case st == swarm.LocalNodeStateActive:
		return nil, 0, fmt.Errorf("the Docker engine is a swarm worker, not a manager: it cannot create services")
	case st != swarm.LocalNodeStateInactive:
		return nil, 0, fmt.Errorf("the Docker engine's swarm state is %q", st)
	}
	nets, err := d.Cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("name", "docker_gwbridge")})
	if err != nil {
		return nil, 0, err
	}
	for _, n := range nets.Items {
		s.hadGwbridge = s.hadGwbridge || n.Name == "docker_gwbridge"
	}
	start := time.Now()
	// Loopback only: a single-node swarm needs no reachable address, and
	// nothing is opened on the machine's network.
	if _, err := d.Cli.SwarmInit(ctx, client.SwarmInitOptions{ListenAddr: "127.0.0.1:2377", AdvertiseAddr: "127.0.0.1"}); err != nil {
		return nil, 0, fmt.Errorf("docker swarm init: %w", err)
	}
	s.initialised = true
	return s, time.Since(start), nil
}

// Leave leaves the swarm when this session joined it (and removes the
// docker_gwbridge network swarm mode created), else does nothing. The
// duration is leave's.
func (s *SwarmSession) Leave(ctx context.Context) (time.Duration, error) {
	if s == nil || !s.initialised {
		return 0, nil
	}
	start := time.Now()
	if _, err := s.d.Cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
		return 0, fmt.Errorf("docker swarm leave --force: %w", err)
	}
	took := time.Since(start)
	s.initialised = false
	if !s.hadGwbridge {
		// The engine creates it as it leaves, asynchronously.
		for range 50 {
			if _, err := s.d.Cli.NetworkRemove(ctx, "docker_gwbridge", client.NetworkRemoveOptions{}); err == nil {
				break
			}
			nets, err := s.d.Cli.NetworkList(ctx, client.NetworkListOptions{Filters: make(client.Filters).Add("name", "docker_gwbridge")})
			if err == nil && len(nets.Items) == 0 && time.Since(start) > 3*time.Second {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return took, nil
}

// RemoveService removes a Swarm service and waits (polling every poll, at
// most timeout) until no container of it is left. It returns how long that
// took from the removal.
func (d *Docker) RemoveService(ctx context.Context, serviceID string, poll, timeout time.Duration) (time.Duration, error) {
	start := time.Now()
	if _, err := d.Cli.ServiceRemove(ctx, serviceID, client.ServiceRemoveOptions{}); err != nil {
		return 0, fmt.Errorf("docker service rm: %w", err)
	}
	for {
		list, err := d.Cli.ContainerList(ctx, client.ContainerListOptions{All: true,
			Filters: make(client.Filters).Add("label", "com.docker.swarm.service.id="+serviceID)})
		if err == nil && len(list.Items) == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > timeout {
			return 0, fmt.Errorf("%w: containers of service %s still present after %s", ErrTimeout, serviceID, timeout)
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(poll):
		}
	}
}

// ShortID is the first 12 hex digits of an image or container ID.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// RemoveLabelledOnCleanup registers, on cl, the removal of every container
// labelled key=value (with its own two-minute budget, whatever ended the
// run), reporting on stderr what it removed.
func (d *Docker) RemoveLabelledOnCleanup(cl *Cleanups, key, value string) {
	cl.Add(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if n, err := d.RemoveLabelled(ctx, key, value); err != nil {
			fmt.Fprintf(os.Stderr, "remove containers: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(os.Stderr, "removed %d leftover containers\n", n)
		}
	})
}

package docker

import (
	"fmt"

	"berth.dev/berth/internal/driver"
	cerrdefs "github.com/containerd/errdefs"
)

// wrap prefixes err with an ECS reason: "CannotStartContainerError: Error
// response from daemon: ...". errors.Is finds both kind and err's chain.
func wrap(kind, err error) error {
	return fmt.Errorf("%w: %w", kind, err)
}

// classify turns "no such container" into driver.ErrNotFound and adds the
// operation to other errors.
func classify(op, container string, err error) error {
	if cerrdefs.IsNotFound(err) {
		return fmt.Errorf("%w: %s: %w", driver.ErrNotFound, container, err)
	}
	return fmt.Errorf("%s %s: %w", op, container, err)
}

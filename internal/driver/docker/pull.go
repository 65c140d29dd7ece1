package docker

import (
	"context"
	"fmt"

	"berth.dev/berth/internal/driver"
	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// Pull makes image available as ECS_IMAGE_PULL_BEHAVIOR says:
//
//   - default (or ""): pull; if the pull fails, use the cached image, and
//     fail only when there is none.
//   - always: pull; fail when the pull fails, cached image or not.
//   - once: pull only when this agent never pulled the image, or the image
//     it pulled is gone. An image found cached that the record does not name
//     counts as pulled (the agent cannot tell who put it there) and is
//     recorded.
//   - prefer-cached: pull only when no cached image exists.
//
// Every failure wraps driver.ErrCannotPull and reads
// "CannotPullContainerError: <engine's text>".
func (d *Driver) Pull(ctx context.Context, image string, policy driver.PullPolicy) error {
	switch policy {
	case driver.PullDefault, "":
		err := d.pull(ctx, image)
		if err == nil {
			return nil
		}
		id, ok, ierr := d.cached(ctx, image)
		if ierr != nil || !ok {
			return err
		}
		d.log.Warn("image pull failed; using the cached image", "image", image, "id", id, "error", err)
		return nil
	case driver.PullAlways:
		return d.pull(ctx, image)
	case driver.PullOnce:
		id, ok, err := d.cached(ctx, image)
		if err != nil {
			return err
		}
		if !ok {
			return d.pull(ctx, image)
		}
		if !d.pulled.has(image) {
			if err := d.pulled.add(image, id); err != nil {
				d.log.Warn("cannot record pulled image", "image", image, "error", err)
			}
		}
		return nil
	case driver.PullPreferCached:
		_, ok, err := d.cached(ctx, image)
		if err != nil || ok {
			return err
		}
		return d.pull(ctx, image)
	}
	return wrap(driver.ErrCannotPull, fmt.Errorf("unknown image pull behavior %q", policy))
}

// pull pulls image and records it.
func (d *Driver) pull(ctx context.Context, image string) error {
	resp, err := d.cli.ImagePull(ctx, image, client.ImagePullOptions{})
	if err != nil {
		return wrap(driver.ErrCannotPull, err)
	}
	defer resp.Close()
	if err := resp.Wait(ctx); err != nil {
		return wrap(driver.ErrCannotPull, err)
	}
	id, ok, err := d.cached(ctx, image)
	if err != nil {
		return err
	}
	if !ok {
		return wrap(driver.ErrCannotPull, fmt.Errorf("image %s is not present after its pull", image))
	}
	if err := d.pulled.add(image, id); err != nil {
		d.log.Warn("cannot record pulled image", "image", image, "error", err)
	}
	return nil
}

// cached reports whether the engine holds image, and its ID.
func (d *Driver) cached(ctx context.Context, image string) (string, bool, error) {
	img, err := d.cli.ImageInspect(ctx, image)
	if err == nil {
		return img.ID, true, nil
	}
	if cerrdefs.IsNotFound(err) {
		d.pulled.forget(image)
		return "", false, nil
	}
	return "", false, wrap(driver.ErrCannotPull, err)
}

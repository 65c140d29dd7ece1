package fakedriver

import (
	"context"
	"fmt"
	"maps"

	"berth.dev/berth/internal/driver"
)

// CreateSandbox records a sandbox; its NetNSPath names no real namespace.
func (r *Runtime) CreateSandbox(ctx context.Context, spec driver.SandboxSpec) (driver.Sandbox, error) {
	if err := r.call(ctx, Call{Op: OpCreateSandbox, Name: spec.Name}); err != nil {
		return driver.Sandbox{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, sb := range r.sandboxes {
		if spec.Name != "" && sb.Name == spec.Name {
			return driver.Sandbox{}, fmt.Errorf("%w: the sandbox name %s is in use", driver.ErrCannotCreate, spec.Name)
		}
	}
	r.next++
	id := fmt.Sprintf("sbox%028d", r.next)
	labels := maps.Clone(spec.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[driver.LabelManaged] = "true"
	labels[driver.LabelSandbox] = "true"
	sb := &driver.Sandbox{ID: id, Name: spec.Name, NetNSPath: "/fake/netns/" + id, Labels: labels}
	r.sandboxes[id] = sb
	r.sbOrder = append(r.sbOrder, id)
	return copySandbox(sb), nil
}

// RemoveSandbox forgets a sandbox; an unknown ID is not an error.
func (r *Runtime) RemoveSandbox(ctx context.Context, id string) error {
	if err := r.call(ctx, Call{Op: OpRemoveSandbox, ID: id}); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sandboxes[id] == nil {
		return nil
	}
	delete(r.sandboxes, id)
	for i, o := range r.sbOrder {
		if o == id {
			r.sbOrder = append(r.sbOrder[:i], r.sbOrder[i+1:]...)
			break
		}
	}
	return nil
}

// ListSandboxes returns the sandboxes in creation order.
func (r *Runtime) ListSandboxes(ctx context.Context) ([]driver.Sandbox, error) {
	if err := r.call(ctx, Call{Op: OpListSandboxes}); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]driver.Sandbox, 0, len(r.sbOrder))
	for _, id := range r.sbOrder {
		out = append(out, copySandbox(r.sandboxes[id]))
	}
	return out, nil
}

func copySandbox(sb *driver.Sandbox) driver.Sandbox {
	c := *sb
	c.Labels = maps.Clone(sb.Labels)
	return c
}

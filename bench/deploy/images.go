package main

import (
	"context"
	"fmt"
	"os"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"berth.dev/berth/bench/internal/harness"
	"berth.dev/berth/internal/e2e/testimage"
)

// versionLabel is the label v2's image carries (v1's does not).
const versionLabel = "berth.bench.deploy.version"

// images are the two versions of the service: tags (berth's task
// definitions) and IDs (Swarm's service spec, so no registry is asked).
type images struct {
	v1Tag, v2Tag string
	v1ID, v2ID   string
}

// buildImages builds the test application image as repo:v1, and makes
// repo:v2 from it: v1's file system committed from a container that never
// ran, with one more label. v2 is the same program with another image ID,
// as a rebuilt application would be; starting it costs what starting v1
// does. v2 also clears testimage's content label, so that testimage.Build
// (e2e tests on the same engine) never mistakes it for an image of its own.
// The cleanups remove v2's tag, then v1's, unless keep.
func buildImages(ctx context.Context, d *harness.Docker, repo, runID string, keep bool, cl *harness.Cleanups) (*images, error) {
	im := &images{v1Tag: repo + ":v1", v2Tag: repo + ":v2"}
	if err := testimage.Build(ctx, im.v1Tag); err != nil {
		return nil, err
	}
	if !keep {
		cl.Add(func() {
			if err := testimage.Remove(context.Background(), im.v1Tag); err != nil {
				fmt.Fprintln(os.Stderr, "remove image:", err)
			}
		})
	}
	v1, err := d.Cli.ImageInspect(ctx, im.v1Tag)
	if err != nil {
		return nil, err
	}
	im.v1ID = v1.ID
	cr, err := d.Cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Name:   "berth-bench-deploy-commit-" + runID,
		Config: &container.Config{Image: im.v1ID},
	})
	if err != nil {
		return nil, fmt.Errorf("create a container of v1 to commit v2: %w", err)
	}
	defer d.Cli.ContainerRemove(context.WithoutCancel(ctx), cr.ID, client.ContainerRemoveOptions{Force: true})
	if !keep {
		cl.Add(func() {
			if _, err := d.Cli.ImageRemove(context.Background(), im.v2Tag, client.ImageRemoveOptions{PruneChildren: true}); err != nil {
				fmt.Fprintln(os.Stderr, "remove image:", err)
			}
		})
	}
	commit, err := d.Cli.ContainerCommit(ctx, cr.ID, client.ContainerCommitOptions{
		Reference: im.v2Tag, NoPause: true, Comment: "berth bench/deploy: v2 of the test application",
		Changes: []string{"LABEL " + versionLabel + "=v2", "LABEL " + testimage.LabelSHA256 + `=""`},
	})
	if err != nil {
		return nil, fmt.Errorf("commit v2: %w", err)
	}
	im.v2ID = commit.ID
	if im.v2ID == im.v1ID {
		return nil, fmt.Errorf("v2 has v1's image ID %s", harness.ShortID(im.v1ID))
	}
	return im, nil
}

package awsvpc

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/demoimage"
	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/driver"
)

// dockerSetup makes the demo image under a tag of the test's own, and
// removes, when the test ends, every container of the test's account
// (tasks and their pause containers) and the image.
func dockerSetup(t *testing.T, c *cluster) (*client.Client, string) {
	t.Helper()
	cli := dockertest.RequireDocker(t)
	tag := "berth-awsvpc-demo:" + c.account
	if _, err := demoimage.Ensure(context.Background(), cli, tag, berthBin, io.Discard); err != nil {
		t.Fatalf("demo image: %v", err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true,
			Filters: make(client.Filters).Add("label", driver.LabelCluster+"=arn:aws:ecs:"+region+":"+c.account+":cluster/default")})
		if err == nil {
			for _, ct := range list.Items {
				cli.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true})
			}
		}
		cli.ImageRemove(ctx, tag, client.ImageRemoveOptions{})
	})
	return cli, tag
}

// pauseNS is the namespace path of a task's sandbox (its pause process).
func pauseNS(t *testing.T, cli *client.Client, taskArn string) string {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), client.ContainerListOptions{
		Filters: make(client.Filters).Add("label", driver.LabelTaskARN+"="+taskArn).Add("label", driver.LabelSandbox+"=true")})
	if err != nil || len(list.Items) != 1 {
		t.Fatalf("the sandbox of %s: %v (%d found)", taskArn, err, len(list.Items))
	}
	in, err := cli.ContainerInspect(context.Background(), list.Items[0].ID, client.ContainerInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/proc/%d/ns/net", in.Container.State.Pid)
}

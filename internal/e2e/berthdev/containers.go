package berthdev

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"berth.dev/berth/internal/driver"
)

// newAccount is an account ID of its own for one berth dev, so that the
// containers of its tasks are told from other runs'.
func newAccount() string { return fmt.Sprintf("%012d", rand.Int64N(1e12)) }

// removeContainers removes the Docker containers of the tasks of
// account's clusters (berth dev leaves its stopped tasks' containers, as
// an ECS agent keeps them for a while), listing again until a listing
// finds none: a creation the engine was still carrying out when berth dev
// stopped shows up a moment later.
func removeContainers(t testing.TB, account string) {
	cli, err := client.New(client.FromEnv)
	if err != nil {
		t.Logf("remove berth dev's containers: %v", err)
		return
	}
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	prefix := "arn:aws:ecs:" + Region + ":" + account + ":cluster/"
	filter := make(client.Filters).Add("label", driver.LabelCluster)
	for range 10 {
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
		if err != nil {
			t.Logf("list berth dev's containers: %v", err)
			return
		}
		n := 0
		for _, ct := range list.Items {
			if strings.HasPrefix(ct.Labels[driver.LabelCluster], prefix) {
				n++
				if _, err := cli.ContainerRemove(ctx, ct.ID, client.ContainerRemoveOptions{Force: true}); err != nil {
					t.Logf("remove container %s: %v", ct.ID, err)
				}
			}
		}
		if n == 0 {
			return
		}
		time.Sleep(300 * time.Millisecond)
	}
}

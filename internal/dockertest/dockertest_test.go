package dockertest_test

import (
	"context"
	"strings"
	"testing"

	"berth.dev/berth/internal/dockertest"
	"berth.dev/berth/internal/e2e/testimage"
)

func TestTestappImageIsRemovedAtTheEnd(t *testing.T) {
	cli := dockertest.RequireDocker(t)
	var tag string
	t.Run("build", func(t *testing.T) {
		tag = dockertest.TestappImage(t)
		img, err := cli.ImageInspect(context.Background(), tag)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tag, "berth-testapp:") || img.Config.Entrypoint[0] != testimage.BinaryInImage {
			t.Errorf("tag %q entrypoint %q", tag, img.Config.Entrypoint)
		}
	})
	if tag == "" {
		t.Fatal("no tag")
	}
	if _, err := cli.ImageInspect(context.Background(), tag); err == nil {
		t.Errorf("%s still exists after its test ended", tag)
	}
}

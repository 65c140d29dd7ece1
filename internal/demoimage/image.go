// Package demoimage makes the demo image `berth dev` offers on Docker with
// no registry: the berth binary itself, FROM scratch (internal/selfimage),
// with `berth demo-app` (internal/demoapp, an HTTP server with /health) as
// its entry point.
//
// Invariants: those of selfimage.Ensure. The image carries LabelSHA256, so a
// restart of `berth dev` costs one image inspect, and Ensure never removes
// an image.
package demoimage

import (
	"context"
	"io"

	"berth.dev/berth/internal/selfimage"
	"github.com/moby/moby/client"
)

const (
	// Tag is the image examples/demo.json and demo-service.yaml name.
	Tag = "berth-demo:1"
	// BinaryInImage is the berth binary's path in the image.
	BinaryInImage = selfimage.BinaryInImage
	// LabelSHA256 is the image label that holds the binary's hex sha256.
	LabelSHA256 = "berth.demo.sha256"
	// Port is the port the demo application serves on.
	Port = 8080
)

// EntryPoint is the image's ENTRYPOINT.
var EntryPoint = []string{BinaryInImage, "demo-app", "--log-requests"}

// Ensure makes tag an image of the binary exe unless it already is one,
// writing what it does to progress. It reports whether it built.
func Ensure(ctx context.Context, cli *client.Client, tag, exe string, progress io.Writer) (bool, error) {
	return selfimage.Ensure(ctx, cli, selfimage.Image{
		Tag:         tag,
		Exe:         exe,
		What:        "demo image",
		EntryPoint:  EntryPoint,
		Expose:      []int{Port},
		LabelSHA256: LabelSHA256,
		Message:     "berth demo application",
	}, progress)
}

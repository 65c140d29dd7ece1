// Command demo-image builds the image examples/demo.json and
// examples/demo-service.yaml run, for machines with Docker but no registry:
// berth's test application (internal/e2e/testapp: a small static HTTP
// server with a /health endpoint, no shell) in an image FROM scratch,
// built from this repository, with nothing downloaded.
//
//	go run ./examples/demo-image [--tag berth-demo:1]
//
// Run it from the repository root. Running it again is cheap: an image of
// the same binary is kept or re-tagged, not rebuilt.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"berth.dev/berth/internal/e2e/testimage"
)

func main() {
	tag := flag.String("tag", "berth-demo:1", "image tag to build")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	if err := testimage.Build(ctx, *tag); err != nil {
		fmt.Fprintln(os.Stderr, "demo-image:", err)
		os.Exit(1)
	}
	fmt.Printf("built %s: %s serves HTTP on port %d (/health answers 200; /fail makes it answer 500)\n",
		*tag, testimage.BinaryInImage, testimage.Port)
}

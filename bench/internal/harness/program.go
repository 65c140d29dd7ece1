package harness

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// Main runs a bench program called name: it parses the command line with
// parse (exit 2 on a bad one; -h prints the usage and exits 0), then runs
// bench with the contexts of Interrupts (soft and hard are the messages
// printed at the first and second interrupt; empty ones print nothing), and
// exits 1 if it fails.
func Main[O any](name string, parse func(args []string) (O, error), soft, hard string, bench func(ctx, hard context.Context, o O) error) {
	o, err := parse(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(2)
	}
	ctx, hardCtx, stop := Interrupts(soft, hard)
	err = bench(ctx, hardCtx, o)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// Common holds the flags every program that starts berth takes.
type Common struct {
	BerthBin  string // berth binary to run; "" builds ./cmd/berth
	DataRoot  string // parent of the run's data dirs; "" is the system temp dir
	Out       string // file to append the Markdown report to
	Image     string // test application image (tag or repository)
	KeepImage bool
	Region    string
}

// Register adds the common flags to fs; image and keep describe the
// program's -image default and meaning, and what -keep-image keeps.
func (c *Common) Register(fs *flag.FlagSet, imageDefault, imageUsage, keepUsage string) {
	fs.StringVar(&c.BerthBin, "berth-bin", "", "berth binary to run (default: go build ./cmd/berth)")
	fs.StringVar(&c.DataRoot, "data-root", "", "where the runs keep their data dirs (default: the system temp dir)")
	fs.StringVar(&c.Out, "out", "", "append the Markdown report to this file")
	fs.StringVar(&c.Image, "image", imageDefault, imageUsage)
	fs.BoolVar(&c.KeepImage, "keep-image", false, keepUsage)
	fs.StringVar(&c.Region, "region", "us-east-1", "region of the started servers")
}

// Workspace makes the run's root directory (prefix and a random suffix,
// under c.DataRoot) and returns it with the clean-ups that remove it; the
// caller runs them when the run ends.
func (c *Common) Workspace(prefix string) (string, *Cleanups, error) {
	parent := c.DataRoot
	if parent == "" {
		parent = os.TempDir()
	}
	root, err := os.MkdirTemp(parent, prefix)
	if err != nil {
		return "", nil, err
	}
	cl := &Cleanups{}
	cl.Add(func() { os.RemoveAll(root) })
	return root, cl, nil
}

// Berth returns the absolute path of the berth binary to run: c.BerthBin,
// or one built from this module into root/bin.
func (c *Common) Berth(ctx context.Context, root string) (string, error) {
	if c.BerthBin != "" {
		return filepath.Abs(c.BerthBin)
	}
	fmt.Fprintln(os.Stderr, "building berth ...")
	if err := os.Mkdir(filepath.Join(root, "bin"), 0o755); err != nil {
		return "", err
	}
	return BuildBerth(ctx, filepath.Join(root, "bin"))
}

// Package shimentry runs the process runtime's per-container shim
// (`berth shim ...`) from package initialisation, before most of berth's
// dependencies initialise.
//
// Every task of the process runtime starts one shim, and a shim is a berth
// process: when it ran from main, it first paid for initialising every
// package the binary links (the SDK's schemas, the Docker client's
// reference parser, Prometheus, raft, protobuf: about a third of its start
// CPU). Go initialises a package as soon as its imports are initialised,
// taking ready packages in import-path order, so this package, which
// imports only the process runtime (the standard library, x/sys/unix and
// two small berth packages), runs ahead of the heavier ones; which
// packages still precede it is fixed by the import graph and checked by
// the end-to-end test TestShimStartsBeforeHeavyPackages.
//
// Invariant: importing this package has no effect unless the process was
// started as `berth shim ...`, in which case it never returns to main.
package shimentry

import (
	"os"

	"berth.dev/berth/internal/driver/process"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == process.ShimCommand {
		os.Exit(process.RunShim(os.Args[2:]))
	}
}

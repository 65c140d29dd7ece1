// Package version reports berth's version: set at build time with
// -ldflags "-X berth.dev/berth/internal/version.Version=v1.2.3", else the
// module version from the build info, else "dev".
package version

import "runtime/debug"

// Version is set at build time; empty means "ask the build info".
var Version = ""

// String returns berth's version.
func String() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

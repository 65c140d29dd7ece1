// Package testimage builds berth-testapp (internal/e2e/testapp), the program
// runtime tests run, in the two forms the runtimes need: a static binary on
// the host (BinaryPath, for the process runtime) and a Docker image FROM
// scratch (Build, for the Docker runtime).
//
// Invariants:
//   - The binary is built with CGO_ENABLED=0 and -trimpath, so it is static
//     and the same source gives the same bytes. It is stored under a name
//     derived from its content in a per-user cache directory: a path
//     BinaryPath returned is never rewritten, even when another process
//     builds another version of the source at the same time.
//   - The image holds the binary at BinaryInImage, which is also its
//     ENTRYPOINT, a world-writable /tmp, and an /etc/passwd with root and
//     nobody. It carries LabelSHA256 (the binary's sha256), so Build knows
//     when a tag is already up to date.
//   - Build is idempotent and safe to call from several goroutines and
//     processes at once (test packages run in parallel): builds are
//     serialised by a lock file, and an image already built from the same
//     binary is tagged rather than built again. Build never removes an image
//     another tag still names.
//
// Callers must run inside the berth module (tests do: go test runs them in
// their package directory), since the binary is built with `go build`.
package testimage

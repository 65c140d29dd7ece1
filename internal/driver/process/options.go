package process

import "time"

// ShimCommand is the hidden berth subcommand that must call RunShim with the
// arguments after it: `berth shim run --ready-fd 3 DIR` supervises one
// container and `berth shim exec` is the trampoline that execs a workload
// with ulimits or as another user.
const ShimCommand = "shim"

// Defaults of Options.
const (
	DefaultLogMaxBytes  = 10 << 20
	DefaultLogFiles     = 3
	DefaultPollInterval = 25 * time.Millisecond
)

// Options configure a Driver.
type Options struct {
	// StateDir holds one directory per container (required). It is created
	// with mode 0700: specs carry environment variables.
	StateDir string
	// ShimPath is the program that runs RunShim, invoked as
	// ShimPath ShimArgs... run --ready-fd 3 DIR (and ShimPath ShimArgs...
	// exec for the trampoline of Exec). When empty: os.Executable(), and ShimArgs
	// [ShimCommand] unless ShimArgs is set.
	ShimPath string
	ShimArgs []string
	// LogMaxBytes is the size at which a log file is rotated (default 10 MiB,
	// at least 1 KiB); LogFiles is how many files are kept (default 3).
	LogMaxBytes int64
	LogFiles    int
	// PollInterval is how often followed Logs look for output, and how
	// often Start, Wait and Stop look at the state directory when they have
	// no event to wait for: a container another driver is starting, or a
	// kernel without pidfd (default 25ms).
	PollInterval time.Duration
	// CgroupParent is the cgroup v2 directory per-container cgroups are
	// created in, as a path under /sys/fs/cgroup or relative to it. Empty
	// means the agent's own cgroup (the agent moves itself into a
	// "berth-agent" leaf of it when needed to delegate controllers); "none"
	// disables cgroups.
	CgroupParent string
	// RequireCgroup makes New fail when memory and CPU limits cannot be
	// enforced, instead of running containers without them.
	RequireCgroup bool
	// Images are images this runtime can run although it runs no image
	// (berth dev names its demo image, whose program is berth itself): a
	// container of an image named here that sets no entryPoint gets the
	// image's EntryPoint, and a first word of its argv or of an Exec (a
	// health check) that is a key of Files, a path in the image, runs the
	// host file Files maps it to.
	Images map[string]Image
}

// Image is what the process runtime knows of an image it can run.
type Image struct {
	EntryPoint []string
	Files      map[string]string
}

// Limits reports what the driver enforces on this host.
type Limits struct {
	// Cgroup is the cgroup v2 directory containers' cgroups are created in;
	// empty when cgroups are not used.
	Cgroup string
	// Memory: memory.max (memory) and memory.low (memoryReservation) are set,
	// and OOM kills are reported. CPU: cpu.weight is set from cpu shares.
	Memory, CPU bool
	// Reason says why a limit is not enforced.
	Reason string
}

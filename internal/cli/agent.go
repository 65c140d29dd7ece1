package cli

import (
	"berth.dev/berth/internal/taskendpoint"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/server"
)

// agentFlags are the `berth agent` flags (shared with `berth dev`).
type agentFlags struct {
	server, cluster, runtime, dataDir, az, instanceType, pull, region, logLevel string
	attributes                                                                  []string
	stopTimeout                                                                 time.Duration
	reservedMemory                                                              int64
	disablePrivileged                                                           bool
	taskNetwork, hostAddress, taskBridge                                        string
	subnets                                                                     []string
	taskDNS, dnsForward                                                         string
	taskAWSEndpoint                                                             bool
}

func (f *agentFlags) register(cmd *cobra.Command, withServer bool) {
	fl := cmd.Flags()
	if withServer {
		fl.StringVar(&f.server, "server", "", "berth server URL (required)")
		fl.StringVar(&f.cluster, "cluster", "default", "cluster to join (default is created when missing)")
		fl.StringVar(&f.dataDir, "data-dir", "", "directory for the agent's state (required)")
		fl.StringVar(&f.region, "region", "us-east-1", "region the server signs for")
		fl.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
		fl.StringVar(&f.dnsForward, "dns-forward", "", "where the tasks' DNS server forwards names outside berth's: addresses or host:port, comma separated, or none (default: the host's resolv.conf)")
	}
	fl.StringVar(&f.taskDNS, "task-dns", "auto", "serve berth's DNS to tasks at "+taskendpoint.IP+":53 and make it their nameserver unless a task definition sets dnsServers, and the task role credentials and metadata endpoint at "+taskendpoint.IP+":80: on, off, or auto (on when run as root on Linux)")
	fl.BoolVar(&f.taskAWSEndpoint, "task-aws-endpoint", true, "with the task endpoint, pass the AWS API calls tasks send to http://"+taskendpoint.IP+" on to the server and set AWS_ENDPOINT_URL to it in containers whose definition does not, so the AWS SDKs and CLI in tasks call berth")
	fl.StringVar(&f.runtime, "runtime", "", "container runtime: docker or process (default: docker when an engine answers, else process)")
	fl.StringArrayVar(&f.attributes, "attribute", nil, "custom attribute name=value (repeatable)")
	fl.StringVar(&f.az, "availability-zone", "", "ecs.availability-zone attribute (default REGIONa)")
	fl.StringVar(&f.instanceType, "instance-type", "", "ecs.instance-type attribute (default berth)")
	fl.DurationVar(&f.stopTimeout, "stop-timeout", 30*time.Second, "grace between SIGTERM and SIGKILL when a container sets no stopTimeout (ECS_CONTAINER_STOP_TIMEOUT)")
	pull, pullHelp := "default", "image pull behaviour: default, always, once or prefer-cached (ECS_IMAGE_PULL_BEHAVIOR)"
	if !withServer { // berth dev: an image present is used without asking a registry
		pull, pullHelp = string(driver.PullPreferCached), pullHelp+"; berth dev's default prefer-cached uses an image present without asking a registry, default is ECS's (pull, the cached image only when the pull fails)"
	}
	fl.StringVar(&f.pull, "image-pull-behavior", pull, pullHelp)
	fl.Int64Var(&f.reservedMemory, "reserved-memory", 0, "MiB of host memory not offered to tasks (ECS_RESERVED_MEMORY)")
	fl.BoolVar(&f.disablePrivileged, "disable-privileged", false, "refuse privileged containers (ECS_DISABLE_PRIVILEGED)")
	fl.StringVar(&f.taskNetwork, "task-network", "auto", "run awsvpc tasks (each with its own network namespace and address): on, off, or auto (on when run as root with a runtime that makes task namespaces)")
	fl.StringVar(&f.hostAddress, "host-address", "", "address other hosts and load balancers reach this one at: routes to its awsvpc tasks, load-balancer targets of its bridge and host tasks (default: this host's address towards the server)")
	fl.StringVar(&f.taskBridge, "task-bridge", "berth0", "name of the bridge awsvpc tasks are attached to")
	fl.StringArrayVar(&f.subnets, "subnet", nil, "a subnet ID this instance serves (repeatable): awsvpc tasks naming subnets go only to instances serving one of them; none: every subnet")
}

func (f *agentFlags) config(env *Env, drv driver.Driver, log *slog.Logger) (agent.Config, error) {
	attrs := map[string]string{}
	for _, kv := range f.attributes {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return agent.Config{}, fmt.Errorf("--attribute %q: use name=value", kv)
		}
		attrs[k] = v
	}
	id, secret := env.Getenv(server.EnvRootAccessKeyID), env.Getenv(server.EnvRootSecretAccessKey)
	if id == "" || secret == "" {
		id, secret = env.Getenv("AWS_ACCESS_KEY_ID"), env.Getenv("AWS_SECRET_ACCESS_KEY")
	}
	cfg := agent.Config{
		Server: f.server, Cluster: f.cluster, DataDir: f.dataDir, Region: f.region,
		AccessKeyID: id, SecretAccessKey: secret, Driver: drv,
		Attributes: attrs, AvailabilityZone: f.az, InstanceType: f.instanceType,
		StopTimeout: f.stopTimeout, PullPolicy: driver.PullPolicy(f.pull),
		ReservedMemoryMiB: f.reservedMemory, DisablePrivileged: f.disablePrivileged,
		Log: log,
	}
	if err := f.taskNetworkConfig(&cfg, drv, log); err != nil {
		return agent.Config{}, err
	}
	return cfg, nil
}

// taskNetworkConfig sets the agent's task network from --task-network,
// --host-address and --task-bridge.
func (f *agentFlags) taskNetworkConfig(cfg *agent.Config, drv driver.Driver, log *slog.Logger) error {
	// The host address is registered in every mode: load balancers reach
	// the instance targets of bridge and host tasks at it.
	cfg.HostAddress = f.hostAddress
	if cfg.HostAddress == "" {
		cfg.HostAddress = addressTowards(f.server)
	} else if _, err := netip.ParseAddr(cfg.HostAddress); err != nil {
		return fmt.Errorf("--host-address %q: %w", f.hostAddress, err)
	}
	_, sandboxes := drv.(driver.Sandboxer)
	possible, why := sandboxes && runtime.GOOS == "linux" && os.Geteuid() == 0, ""
	switch {
	case !sandboxes:
		why = "the " + drv.Name() + " runtime makes no task network namespaces"
	case runtime.GOOS != "linux":
		why = "task networking needs Linux"
	case os.Geteuid() != 0:
		why = "task networking needs root"
	}
	switch f.taskNetwork {
	case "off":
		if len(f.subnets) > 0 {
			return fmt.Errorf("--subnet needs the task network (--task-network on or auto)")
		}
		return nil
	case "on":
		if !possible {
			return fmt.Errorf("--task-network on: %s", why)
		}
	case "auto", "":
		if !possible {
			log.Info("awsvpc tasks are not run on this instance", "why", why)
			return nil
		}
	default:
		return fmt.Errorf("--task-network %q: use on, off or auto", f.taskNetwork)
	}
	cfg.TaskNetwork = agent.NewHostTaskNetwork(f.taskBridge, log)
	cfg.Subnets = f.subnets
	return nil
}

// taskDNSConfig is the configuration of the agent's DNS server for tasks.
func (f *agentFlags) taskDNSConfig(cfg agent.Config, node string) taskDNSConfig {
	if host, err := os.Hostname(); err == nil && node == "agent" {
		node = host
	}
	return taskDNSConfig{mode: f.taskDNS, forward: f.dnsForward, server: f.server, region: f.region,
		keyID: cfg.AccessKeyID, secret: cfg.SecretAccessKey, node: node, stateFile: dnsStateFile(f.dataDir)}
}

// addressTowards is this host's address on the route to the server's host
// (a UDP socket's local address: nothing is sent), or "" when unknown.
func addressTowards(serverURL string) string {
	u, err := url.Parse(serverURL)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	port := u.Port()
	if port == "" {
		port = "443"
	}
	c, err := net.Dial("udp", net.JoinHostPort(u.Hostname(), port))
	if err != nil {
		return ""
	}
	defer c.Close()
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return a.IP.String()
	}
	return ""
}

func newAgentCmd(env *Env) *cobra.Command {
	var f agentFlags
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Run a berth container agent on this host",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.server == "" || f.dataDir == "" {
				return &exitError{code: 2, msg: "--server and --data-dir are required"}
			}
			log, err := newLogger(env.Stderr, f.logLevel)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			drv, why, closeDrv, err := openRuntime(ctx, f.runtime, filepath.Join(f.dataDir, "runtime"), log, nil)
			if err != nil {
				return err
			}
			defer closeDrv()
			cfg, err := f.config(env, drv, log)
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			cfg.Log = log
			tdns, err := startTaskDNS(ctx, log, f.taskDNSConfig(cfg, "agent"))
			if err != nil {
				return &exitError{code: 2, msg: err.Error()}
			}
			cfg.TaskDNS, cfg.TaskEndpoint = tdns.addr, tdns.endpoint()
			cfg.TaskAWSEndpoint = cfg.TaskEndpoint && f.taskAWSEndpoint
			a, err := agent.New(cfg)
			if err != nil {
				tdns.Close()
				return err
			}
			tdns.serveEndpoint(a.TaskEndpointHandler())
			log.Info("berth agent starting", "runtime", why, "server", f.server, "cluster", f.cluster)
			err = a.Run(ctx)
			if derr := tdns.Close(); err == nil && derr != nil {
				err = fmt.Errorf("task DNS: %w", derr)
			}
			return err
		},
	}
	f.register(cmd, true)
	return cmd
}

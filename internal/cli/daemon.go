package cli

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"berth.dev/berth/internal/agent"
	"berth.dev/berth/internal/demoimage"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/driver"
	"berth.dev/berth/internal/server"
)

// serverFlags are shared by `server` and `dev`.
type serverFlags struct {
	dataDir, listen, region, account, logLevel string
	settleTime, lostHostTimeout                time.Duration
	taskRange                                  string
	taskSubnetBits                             int
	lbAddresses                                string
	lbNode                                     bool // dev: run a load-balancer data-plane node
	stateKeyFile                               string
	dnsListen, dnsForward                      string
}

// DefaultDNSListen is where `berth server` and `berth dev` answer DNS.
const DefaultDNSListen = "127.0.0.1:8053"

// DevLBAddresses is the load balancer address pool of `berth dev`.
const DevLBAddresses = "127.0.1.0/24"

func (f *serverFlags) register(cmd *cobra.Command, dataDir, lbAddresses string) {
	cmd.Flags().StringVar(&f.dataDir, "data-dir", dataDir, "directory that holds berth's state")
	cmd.Flags().StringVar(&f.listen, "listen", "127.0.0.1:4566", "address the API listens on (host:port)")
	cmd.Flags().StringVar(&f.region, "region", "us-east-1", "region used in ARNs and accepted in signatures")
	cmd.Flags().StringVar(&f.account, "account-id", "000000000000", "12-digit account ID used in ARNs")
	cmd.Flags().StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	cmd.Flags().DurationVar(&f.settleTime, "task-settle-time", 40*time.Second, "how long a service task without health checks must run to count as healthy in a deployment")
	cmd.Flags().DurationVar(&f.lostHostTimeout, "lost-host-timeout", time.Minute, "how long an agent may stay disconnected before its service tasks are marked STOPPED and replaced")
	cmd.Flags().StringVar(&f.taskRange, "task-cidr", server.DefaultTaskRange, "the cluster's task network: each container instance that runs awsvpc tasks gets a task subnet out of it")
	cmd.Flags().IntVar(&f.taskSubnetBits, "task-subnet-bits", server.DefaultTaskSubnetBits, "prefix length of each container instance's task subnet (24: 253 task addresses)")
	cmd.Flags().StringVar(&f.lbAddresses, "lb-addresses", lbAddresses, "IPv4 CIDR the ELBv2 API takes load balancer addresses from (empty: none, CreateLoadBalancer is refused)")
	cmd.Flags().StringVar(&f.dnsListen, "dns-listen", DefaultDNSListen, "address (host:port, UDP and TCP) berth's DNS server answers at: Cloud Map private DNS namespaces and load balancers' names, other names forwarded (empty: none)")
	cmd.Flags().StringVar(&f.dnsForward, "dns-forward", "", "where berth's DNS servers forward names outside berth's: addresses or host:port, comma separated, or none (default: the host's resolv.conf)")
	cmd.Flags().StringVar(&f.stateKeyFile, "state-key-file", "", "key that seals secrets at rest (certificate private keys): a file of 32 bytes, raw, hex or base64, readable by its owner only (default: DATA-DIR/keys/state.key, made on first start)")
}

func newServerCmd(env *Env) *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run a berth control-plane server",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.dataDir == "" {
				return &exitError{code: 2, msg: "--data-dir is required"}
			}
			return runServer(cmd, env, f, nil)
		},
	}
	f.register(cmd, "", "")
	return cmd
}

func newDevCmd(env *Env) *cobra.Command {
	var f serverFlags
	var af agentFlags
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run everything berth has on this machine, with state in ./.berth",
		Long: "dev starts a complete berth on one machine: the control plane with its\n" +
			"state in a local folder (./.berth by default). It prints the endpoint,\n" +
			"the credentials and examples to copy.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runServer(cmd, env, f, &af)
		},
	}
	f.register(cmd, ".berth", DevLBAddresses)
	cmd.Flags().BoolVar(&f.lbNode, "lb", true, "serve the load balancers created through the ELBv2 API in this process (a berth lb node)")
	af.register(cmd, false)
	return cmd
}

// runServer runs a server; with af (dev mode) it also runs an agent in the
// same process, in cluster default.
func runServer(cmd *cobra.Command, env *Env, f serverFlags, af *agentFlags) error {
	log, err := newLogger(env.Stderr, f.logLevel)
	if err != nil {
		return &exitError{code: 2, msg: err.Error()}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	var forward []string
	if f.dnsListen != "" {
		if forward, err = dnsForwarders(f.dnsForward, f.dnsListen); err != nil {
			return &exitError{code: 2, msg: err.Error()}
		}
	}
	srv, err := server.Start(ctx, server.Config{
		DNSListen: f.dnsListen, DNSForward: forward,
		DataDir: f.dataDir, Listen: f.listen, Region: f.region, AccountID: f.account,
		Getenv: env.Getenv, Log: log, Deploy: deployConfig(f),
		TaskRange: f.taskRange, TaskSubnetBits: f.taskSubnetBits, LBAddresses: f.lbAddresses,
		StateKeyFile: f.stateKeyFile,
	})
	if err != nil {
		return err
	}
	if af == nil {
		return srv.Wait(ctx)
	}
	drv, why, closeDrv, err := openRuntime(ctx, af.runtime, filepath.Join(f.dataDir, "agent", "runtime"), log, demoImages())
	if err != nil {
		srv.Close()
		return err
	}
	defer closeDrv()
	if drv.Name() == "docker" {
		ensureDemoImage(ctx, env.Stdout, log)
	}
	creds, _ := srv.Credentials()
	af.server, af.cluster, af.region = srv.Endpoint(), "default", f.region
	af.dataDir = filepath.Join(f.dataDir, "agent")
	acfg, err := af.config(env, drv, log)
	if err != nil {
		srv.Close()
		return &exitError{code: 2, msg: err.Error()}
	}
	acfg.AccessKeyID, acfg.SecretAccessKey = creds.AccessKeyID, creds.SecretAccessKey
	acfg.Log = log
	af.dnsForward = f.dnsForward
	tdns, err := startTaskDNS(ctx, log, af.taskDNSConfig(acfg, "dev"))
	if err != nil {
		srv.Close()
		return &exitError{code: 2, msg: err.Error()}
	}
	defer tdns.Close()
	acfg.TaskDNS, acfg.TaskEndpoint = tdns.addr, tdns.endpoint()
	acfg.TaskAWSEndpoint = acfg.TaskEndpoint && af.taskAWSEndpoint
	ag, err := agent.New(acfg)
	if err != nil {
		srv.Close()
		return err
	}
	tdns.serveEndpoint(ag.TaskEndpointHandler())
	agentDone := make(chan error, 1)
	go func() { agentDone <- ag.Run(ctx) }()
	lbDone := make(chan error, 1)
	if f.lbNode {
		go func() {
			lbDone <- runLBNode(ctx, log, lbNodeConfig{endpoint: srv.Endpoint(), region: f.region, keyID: creds.AccessKeyID,
				secret: creds.SecretAccessKey, node: "dev", stateFile: filepath.Join(f.dataDir, "lb", lbStateFile)})
		}()
	} else {
		lbDone <- nil
	}
	select {
	case <-ag.Synced(): // registered, and the server's task list applied
	case err := <-agentDone:
		srv.Close()
		return fmt.Errorf("agent: %w", err)
	case <-ctx.Done():
	}
	printDevBanner(env, srv, f.dataDir, drv.Name(), why, af.pull, lbNote(f), dnsNote(srv, tdns))
	err = srv.Wait(ctx)
	if aerr := <-agentDone; err == nil {
		err = aerr
	}
	if lerr := <-lbDone; err == nil && lerr != nil {
		err = fmt.Errorf("load balancers: %w", lerr)
	}
	return err
}

func deployConfig(f serverFlags) *deploy.Config {
	d := deploy.DefaultConfig()
	d.SettleTime, d.LostHostTimeout = f.settleTime, f.lostHostTimeout
	return &d
}

func printDevBanner(env *Env, srv *server.Server, dataDir, runtimeName, runtime, pull, lb, dns string) {
	creds, src := srv.Credentials()
	abs, _ := filepath.Abs(dataDir)
	ep := printedEndpoint(srv.Endpoint(), net.LookupHost)
	w := env.Stdout
	pullNote := "an image present is used as is, without asking a registry;\n               --image-pull-behavior default for ECS's pull-first behaviour"
	if pull != string(driver.PullPreferCached) {
		pullNote = "as asked with --image-pull-behavior"
	}
	demoNote := "the demo image " + demoimage.Tag + " (this binary, FROM scratch) is ready"
	if runtimeName != "docker" {
		demoNote = "the demo image " + demoimage.Tag + " runs this binary as a process"
	}
	fmt.Fprintf(w, `
berth %s is running (Ctrl-C to stop)

  endpoint     %s
  region       %s
  access key   %s
  secret key   %s
  (credentials from %s)
  state        %s
  agent        one container instance in cluster default, runtime %s
  image pulls  %s: %s
  demo         %s
  load bal.    %s
  dns          %s

Use it with the AWS CLI:

  export AWS_ACCESS_KEY_ID=%s
  export AWS_SECRET_ACCESS_KEY=%s
  export AWS_REGION=%s AWS_DEFAULT_REGION=%s
  aws --endpoint-url %s ecs register-task-definition --cli-input-json file://examples/demo.json
  aws --endpoint-url %s ecs run-task --task-definition demo
  aws --endpoint-url %s ecs list-tasks

or with berth (it finds this endpoint and these credentials by itself when
run from this folder):

  berth register examples/demo.json
  berth run demo --wait
  berth ps
  berth logs TASK_ID
  berth instances

`, version(), ep, srv.Region(), creds.AccessKeyID, creds.SecretAccessKey, src, abs, runtime, pull, pullNote, demoNote, lb, dns,
		creds.AccessKeyID, creds.SecretAccessKey, srv.Region(), srv.Region(), ep, ep, ep)
}

// dnsNote is the dev banner's line on DNS.
func dnsNote(srv *server.Server, tdns *taskDNS) string {
	note := "none here (--dns-listen is empty)"
	if a := srv.DNSAddr(); a != "" {
		note = a + " (Cloud Map private namespaces, load balancers' names)"
	}
	if tdns.addr != "" {
		return note + ";\n               tasks resolve through " + tdns.addr + " unless they set dnsServers"
	}
	return note + ";\n               tasks keep their runtime's resolvers (--task-dns)"
}

// lbNote is the dev banner's line on load balancers.
func lbNote(f serverFlags) string {
	switch {
	case f.lbAddresses == "":
		return "none: no --lb-addresses"
	case !f.lbNode:
		return "addresses from " + f.lbAddresses + "; no data-plane node here (--lb=false): run `berth lb`"
	}
	return "addresses from " + f.lbAddresses + ", served in this process (aws elbv2 ..., berth lbs)"
}

// devHost is the host name `berth dev` prints in its endpoint where the
// host resolves it: the SDKs and the AWS CLI send Cloud Map's
// DiscoverInstances to "data-" + the endpoint's host, which works for a
// name under .localhost (RFC 6761: systemd-resolved and nss-myhostname
// answer every such name with loopback) and never for an address.
const devHost = "berth.localhost"

// printedEndpoint is the endpoint the dev banner prints: devHost with the
// listener's port when lookup resolves both devHost and its data- form to
// loopback, else the listener's own address.
func printedEndpoint(ep string, lookup func(string) ([]string, error)) string {
	u, err := url.Parse(ep)
	if err != nil || u.Port() == "" {
		return ep
	}
	for _, h := range []string{devHost, "data-" + devHost} {
		addrs, err := lookup(h)
		if err != nil || len(addrs) == 0 {
			return ep
		}
		for _, a := range addrs {
			ip, err := netip.ParseAddr(a)
			if err != nil || !ip.IsLoopback() {
				return ep
			}
		}
	}
	u.Host = net.JoinHostPort(devHost, u.Port())
	return u.String()
}

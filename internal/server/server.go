package server

import (
	"berth.dev/berth/internal/dnsapi"
	"berth.dev/berth/internal/dnsconfig"
	"berth.dev/berth/internal/dnsserver"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"berth.dev/berth/internal/acmapi"
	"berth.dev/berth/internal/agentapi"
	"berth.dev/berth/internal/arn"
	"berth.dev/berth/internal/atomicfile"
	"berth.dev/berth/internal/awsproto"
	"berth.dev/berth/internal/controller"
	"berth.dev/berth/internal/deploy"
	"berth.dev/berth/internal/ecsapi"
	"berth.dev/berth/internal/elbapi"
	"berth.dev/berth/internal/fsm"
	"berth.dev/berth/internal/iamapi"
	"berth.dev/berth/internal/ipam"
	"berth.dev/berth/internal/lbapi"
	"berth.dev/berth/internal/logsapi"
	"berth.dev/berth/internal/logstore"
	"berth.dev/berth/internal/raftnode"
	"berth.dev/berth/internal/sdapi"
	"berth.dev/berth/internal/seal"
	"berth.dev/berth/internal/secretsapi"
	"berth.dev/berth/internal/ssmapi"
	"berth.dev/berth/internal/stsapi"
)

// Config configures a control-plane server.
type Config struct {
	DataDir   string
	Listen    string // host:port; port 0 picks a free port
	Region    string
	AccountID string
	// Partition of the ARNs; default "aws".
	Partition string
	// Getenv reads the environment (root credentials); default os.Getenv.
	Getenv func(string) string
	Log    *slog.Logger
	Raft   raftnode.Config
	// ShutdownTimeout bounds how long Close waits for requests in flight.
	ShutdownTimeout time.Duration
	// StoppedTaskRetention is how long STOPPED tasks stay describable;
	// default DefaultStoppedTaskRetention.
	StoppedTaskRetention time.Duration
	// Deploy configures the service reconciler (settle time, lost-host
	// timeout); nil means deploy.DefaultConfig().
	Deploy *deploy.Config
	// GCInterval is how often STOPPED tasks past retention and expired
	// clientTokens are collected; default DefaultGCInterval.
	GCInterval time.Duration
	// TaskRange is the cluster's task network (CIDR) and TaskSubnetBits
	// the prefix length of the task subnet each container instance that
	// can run awsvpc tasks gets out of it; defaults DefaultTaskRange and
	// DefaultTaskSubnetBits.
	TaskRange      string
	TaskSubnetBits int
	// LBAddresses is the IPv4 pool (CIDR) the ELBv2 API gives load
	// balancers their addresses from; "" means none: CreateLoadBalancer
	// is refused with a message naming --lb-addresses.
	LBAddresses string
	// StateKeyFile is the key that seals secrets at rest (certificate
	// private keys): a file of 32 bytes (raw, hex or base64) readable by
	// its owner only. Empty: the data dir's own key (seal.KeyFile), made
	// on first start. The key never enters the raft log or snapshots.
	StateKeyFile string
	// DNSListen is where the server answers DNS (UDP and TCP): the
	// private DNS namespaces and load balancers' names from its own state,
	// other names forwarded to DNSForward. Empty: no DNS server here (the
	// agents' DNS nodes still stream the configuration from this server).
	DNSListen string
	// DNSForward are the upstream resolvers (host:port) of names outside
	// berth's; nil forwards nothing (REFUSED).
	DNSForward []string
	// CredentialsClock is the clock of the temporary credentials STS
	// issues (their Expiration and its enforcement); default time.Now.
	// Tests move it to expire credentials.
	CredentialsClock func() time.Time
}

// Defaults of the task network.
const (
	DefaultTaskRange      = "10.200.0.0/16"
	DefaultTaskSubnetBits = 24
)

// EndpointFile in the data dir records the endpoint of the running server.
const EndpointFile = "endpoint"

// Server is a running control plane.
type Server struct {
	cfg     Config
	node    *raftnode.Node
	machine *fsm.Machine
	http    *http.Server
	ln      net.Listener
	creds   Credentials
	credSrc string
	served  chan error
	log     *slog.Logger
	once    sync.Once
	closed  error
	stop    context.CancelFunc
	loops   sync.WaitGroup
	acm     *acmapi.API
	secrets *secretsapi.API
	ssm     *ssmapi.API
	logs    *logsapi.API
	iam     *iamapi.API
	sts     *stsapi.API
	dns     *dnsserver.Server
}

// Start opens the state in cfg.DataDir and starts serving.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("server: a data dir is required")
	}
	if cfg.Partition == "" {
		cfg.Partition = "aws"
	}
	if cfg.Getenv == nil {
		cfg.Getenv = os.Getenv
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if err := validateIdentity(cfg.Region, cfg.AccountID); err != nil {
		return nil, err
	}
	if cfg.TaskRange == "" {
		cfg.TaskRange = DefaultTaskRange
	}
	if cfg.TaskSubnetBits == 0 {
		cfg.TaskSubnetBits = DefaultTaskSubnetBits
	}
	var lbPool netip.Prefix
	if cfg.LBAddresses != "" {
		p, err := netip.ParsePrefix(cfg.LBAddresses)
		if err != nil || !p.Addr().Is4() {
			return nil, fmt.Errorf("server: load balancer addresses %q: want an IPv4 CIDR such as 127.0.1.0/24", cfg.LBAddresses)
		}
		lbPool = p.Masked()
	}
	if r, err := netip.ParsePrefix(cfg.TaskRange); err != nil {
		return nil, fmt.Errorf("server: task range: %w", err)
	} else if err := ipam.CheckRange(r, cfg.TaskSubnetBits); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	dir, err := filepath.Abs(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("server: data dir: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("server: create data dir: %w", err)
	}
	creds, src, err := RootCredentials(dir, cfg.Getenv)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	namer := arn.Namer{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.AccountID}
	want := identity{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.AccountID}
	have, known, err := readIdentity(dir)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if known && have != want {
		return nil, fmt.Errorf("server: %w", mismatch(dir, have, want))
	}
	_, statErr := os.Stat(filepath.Join(dir, "raft"))
	fresh := errors.Is(statErr, fs.ErrNotExist)
	if !known && fresh {
		if err := writeIdentity(dir, want); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	sealer, err := loadSealer(dir, cfg.StateKeyFile)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	machine := fsm.New(namer, cfg.Log.With("component", "fsm"))
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&stateCollector{state: machine, log: cfg.Log.With("component", "metrics")})
	rcfg := cfg.Raft
	rcfg.DataDir = dir
	rcfg.Metrics = reg
	node, err := raftnode.Open(ctx, rcfg, machine, cfg.Log)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if !known && !fresh {
		// A data dir from before identity files: its state tells.
		if id, ok := stateIdentity(machine.Snapshot()); ok && id != want {
			node.Close()
			return nil, fmt.Errorf("server: %w", mismatch(dir, id, want))
		}
		if err := writeIdentity(dir, want); err != nil {
			node.Close()
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	// IAM roles and the temporary credentials STS issues live in the
	// replicated state (the credentials' secrets sealed, see package stsapi).
	roles := iamapi.New(iamapi.Config{Partition: cfg.Partition, Account: cfg.AccountID, State: machine, Proposer: node})
	stsAPI := stsapi.New(stsapi.Config{Partition: cfg.Partition, Account: cfg.AccountID, Roles: roles,
		State: machine, Proposer: node, Sealer: sealer, Now: cfg.CredentialsClock})
	api := ecsapi.New(ecsapi.Config{
		TaskRange: cfg.TaskRange, TaskSubnetBits: cfg.TaskSubnetBits,
		// RunTask and StartTask refuse roles tasks cannot assume.
		Roles:    stsAPI,
		Namer:    namer,
		State:    machine,
		Proposer: node,
		Log:      cfg.Log,
		Metrics:  reg,
	})
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if !node.IsLeader() {
			http.Error(w, "not leader", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	auth := newAuthenticator(creds, namer.Root(), cfg.Region, time.Now)
	auth.sessions = stsAPI
	// Stream sessions of this process start with its epoch: a leader keeps
	// them when it resets the sessions of earlier processes.
	epoch := ecsapi.NewID()[:12] + "-"
	secrets := secretsapi.New(secretsapi.Config{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.AccountID,
		State: machine, Proposer: node, Sealer: sealer, Log: cfg.Log})
	params := ssmapi.New(ssmapi.Config{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.AccountID,
		State: machine, Proposer: node, Sealer: sealer, Log: cfg.Log})
	// CloudWatch Logs: events and log groups live in this server's own
	// log store (DATA-DIR/logs), never in the raft log (docs/logs.md).
	logStore, err := logstore.Open(filepath.Join(dir, "logs"), logstore.Options{})
	if err != nil {
		node.Close()
		return nil, fmt.Errorf("server: %w", err)
	}
	logs := logsapi.New(logsapi.Config{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.AccountID, Store: logStore, Log: cfg.Log})
	// Agents fetch their tasks' secrets (containerDefinitions[].secrets)
	// through the agent API, resolved by the two APIs, get the temporary
	// credentials of their task roles, issued by STS, and ship the output
	// of awslogs containers to the log store.
	agents := agentapi.New(agentapi.Config{Namer: namer, Auth: agentAuth{auth}, State: machine, Proposer: node, Log: cfg.Log, SessionPrefix: epoch,
		TaskRange: cfg.TaskRange, Secrets: secrets, Parameters: params, ExecutionRoles: stsAPI, Credentials: stsAPI, Logs: logStore})
	mux.Handle("/agent/v1/", agents)
	mux.Handle("/berth/v1/", agents)
	// Every AWS API berth serves sits on one protocol edge; a new service
	// is one more entry here (the first is the default of unsigned requests).
	certs := acmapi.New(acmapi.Config{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.AccountID,
		State: machine, Proposer: node, Sealer: sealer, Log: cfg.Log, InUse: elbapi.CertificateUsers{State: machine}})
	// The load-balancer data plane: its nodes stream their configuration
	// from here and report target health, which the ELBv2 API and the
	// service controller read (in memory, never through the log).
	lbNodes := lbapi.New(lbapi.Config{Auth: agentAuth{auth}, Log: cfg.Log,
		Source: &elbapi.ConfigSource{State: machine, Certificates: certs}})
	elbAPI := elbapi.New(elbapi.Config{Namer: namer, State: machine, Proposer: node, LBAddresses: lbPool,
		Health: lbNodes.Health(), Certificates: certs})
	lbNodes.SetActivate(func(ctx context.Context, arns []string) {
		if err := elbAPI.Activate(ctx, arns); err != nil {
			cfg.Log.Debug("load balancers not marked active", "err", err)
		}
	})
	mux.Handle("/lb/v1/", lbNodes)
	// The DNS data plane: agents' DNS nodes stream the rendered zones from
	// here; the server's own DNS server (DNSListen) is fed in process.
	dnsSource := sdapi.NewSource(machine)
	mux.Handle(dnsconfig.StreamPath, dnsapi.New(dnsapi.Config{Auth: agentAuth{auth}, Source: dnsSource, Log: cfg.Log}))
	services := []awsproto.Service{
		api.Service(),
		certs.Service(),
		elbAPI.Service(),
		sdapi.New(sdapi.Config{Partition: cfg.Partition, Region: cfg.Region, Account: cfg.AccountID, State: machine, Proposer: node, Log: cfg.Log}).Service(),
		secrets.Service(),
		params.Service(),
		logs.Service(),
		roles.Service(),
		stsAPI.Service(),
	}
	mux.Handle("/", awsproto.NewEdge(awsproto.Config{Services: services, Auth: auth, Log: cfg.Log}))
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		node.Close()
		logStore.Close()
		return nil, fmt.Errorf("server: listen on %s: %w", cfg.Listen, err)
	}
	var dnsSrv *dnsserver.Server
	if cfg.DNSListen != "" {
		dnsSrv = dnsserver.New(dnsserver.Options{Forward: cfg.DNSForward, Log: cfg.Log.With("component", "dns")})
		if err := dnsSrv.Start(cfg.DNSListen); err != nil {
			ln.Close()
			node.Close()
			logStore.Close()
			return nil, fmt.Errorf("server: DNS on %s: %w", cfg.DNSListen, err)
		}
	}
	// Streams (agents, log follows) end when the server closes: their
	// requests' contexts derive from this one.
	baseCtx, stop := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, node: node, machine: machine, ln: ln, creds: creds, credSrc: src, acm: certs, secrets: secrets, ssm: params, logs: logs, iam: roles, sts: stsAPI, dns: dnsSrv,
		served: make(chan error, 1), log: cfg.Log,
		stop: stop,
		http: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
			BaseContext: func(net.Listener) context.Context { return baseCtx }},
	}
	// Local clients (berth's CLI run from the same folder) find the endpoint here.
	if err := atomicfile.Write(filepath.Join(dir, EndpointFile), []byte(s.Endpoint()+"\n"), 0o600, false); err != nil {
		stop()
		ln.Close()
		if dnsSrv != nil {
			dnsSrv.Close()
		}
		node.Close()
		logStore.Close()
		return nil, fmt.Errorf("server: write endpoint file: %w", err)
	}
	go func() { s.served <- s.http.Serve(ln) }()
	if dnsSrv != nil {
		// Answers come from this server's replica of the state, leader or
		// not, so resolution goes on while the control plane is busy.
		s.loops.Add(1)
		go func() {
			defer s.loops.Done()
			if err := dnsapi.Feed(baseCtx, dnsSource, dnsSrv, cfg.Log); err != nil && baseCtx.Err() == nil {
				cfg.Log.Error("DNS feed stopped", "err", err)
			}
		}()
	}
	if cfg.StoppedTaskRetention == 0 {
		cfg.StoppedTaskRetention = DefaultStoppedTaskRetention
	}
	if cfg.GCInterval == 0 {
		cfg.GCInterval = DefaultGCInterval
	}
	reconciler := controller.NewServices(controller.Config{State: machine, Proposer: node, Log: cfg.Log, Roles: stsAPI,
		Deploy: cfg.Deploy, NewTaskID: ecsapi.NewID, NewUUID: ecsapi.NewUUID, Metrics: reg, TargetHealth: lbNodes.Health()})
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		s.lead(baseCtx, leaderWork{services: reconciler, epoch: epoch, retention: cfg.StoppedTaskRetention, gc: cfg.GCInterval})
	}()
	s.loops.Add(1)
	go func() {
		defer s.loops.Done()
		logs.RunRetention(baseCtx, LogRetentionInterval)
	}()
	cfg.Log.Info("berth server started", "endpoint", s.Endpoint(), "data_dir", dir)
	return s, nil
}

func validateIdentity(region, account string) error {
	if region == "" {
		return errors.New("server: a region is required")
	}
	if len(account) != 12 {
		return fmt.Errorf("server: account ID %q must be 12 digits", account)
	}
	for _, c := range account {
		if c < '0' || c > '9' {
			return fmt.Errorf("server: account ID %q must be 12 digits", account)
		}
	}
	return nil
}

// Endpoint is the URL clients use.
func (s *Server) Endpoint() string { return "http://" + s.ln.Addr().String() }

// DNSAddr is the address the server answers DNS at ("" when it does not).
func (s *Server) DNSAddr() string {
	if s.dns == nil {
		return ""
	}
	return s.dns.Addr()
}

// Credentials returns the root credentials and where they came from.
func (s *Server) Credentials() (Credentials, string) { return s.creds, s.credSrc }

// Region returns the server's region.
func (s *Server) Region() string { return s.cfg.Region }

// StateCounts returns how many records each state table holds.
func (s *Server) StateCounts() map[string]int { return s.machine.Snapshot().Counts() }

// Node exposes the raft node (snapshots, stats) to tests and tools.
func (s *Server) Node() *raftnode.Node { return s.node }

// Wait blocks until ctx ends or the listener fails, then closes the server.
func (s *Server) Wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.served:
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
	}
	if cerr := s.Close(); err == nil {
		err = cerr
	}
	return err
}

// Close stops serving (letting requests in flight finish) and stops raft.
// Calling it again returns the first call's result.
func (s *Server) Close() error {
	s.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
		defer cancel()
		s.stop()
		err := s.http.Shutdown(ctx)
		s.loops.Wait()
		if s.dns != nil {
			s.dns.Close()
		}
		if lerr := s.logs.Store().Close(); err == nil {
			err = lerr
		}
		if rerr := s.node.Close(); err == nil {
			err = rerr
		}
		s.closed = err
		s.log.Info("berth server stopped")
	})
	return s.closed
}

// loadSealer loads the key that seals secrets at rest: the operator's
// key file, else the data dir's own (created on first start).
func loadSealer(dataDir, keyFile string) (*seal.Sealer, error) {
	if keyFile != "" {
		return seal.LoadFile(keyFile)
	}
	return seal.LoadOrCreate(dataDir)
}

// LogRetentionInterval is how often the log store deletes segments past
// their group's retention.
const LogRetentionInterval = 10 * time.Minute

// Logs is the CloudWatch Logs API and, through its Store, the server's log
// store (for awslogs shipping from agents and `berth logs`).
func (s *Server) Logs() *logsapi.API { return s.logs }

// Certificates is the ACM API: the load balancers resolve their
// listeners' certificates through it (Certificate), and tell it which
// listeners use one (SetInUse).
func (s *Server) Certificates() *acmapi.API { return s.acm }

// Secrets is the Secrets Manager API: it resolves the secrets that task
// definitions name (ResolveSecretValue).
func (s *Server) Secrets() *secretsapi.API { return s.secrets }

// Parameters returns the SSM Parameter Store API (its ResolveParameter
// serves the agent's secret injection).
func (s *Server) Parameters() *ssmapi.API { return s.ssm }

// IAM is the IAM role API.
func (s *Server) IAM() *iamapi.API { return s.iam }

// STS is the STS API; its IssueRoleCredentials issues a task role's
// credentials on the server's behalf (the agent's task credentials
// endpoint).
func (s *Server) STS() *stsapi.API { return s.sts }

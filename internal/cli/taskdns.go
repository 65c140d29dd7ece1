package cli

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"berth.dev/berth/internal/dnsnode"
	"berth.dev/berth/internal/dnsserver"
	"berth.dev/berth/internal/hostaddr"
	"berth.dev/berth/internal/taskendpoint"
)

// dnsForwarders turns --dns-forward into upstream addresses: "" reads the
// host's resolv.conf (skipping listen, the server's own address), "none"
// forwards nothing (names outside berth's zones are REFUSED), else a comma
// separated list of host or host:port.
func dnsForwarders(flag, listen string) ([]string, error) {
	switch strings.TrimSpace(flag) {
	case "":
		ups, err := dnsserver.ResolvConf(dnsserver.ResolvConfPath, listen)
		if err != nil {
			return nil, fmt.Errorf("--dns-forward: reading the host's resolvers: %w", err)
		}
		return ups, nil
	case "none":
		return nil, nil
	}
	var out []string
	for _, s := range strings.Split(flag, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, err := netip.ParseAddr(s); err == nil {
			s = net.JoinHostPort(s, "53")
		}
		if _, _, err := net.SplitHostPort(s); err != nil {
			return nil, fmt.Errorf("--dns-forward %q: want addresses or host:port, comma separated, or none", flag)
		}
		out = append(out, s)
	}
	return out, nil
}

// taskDNSConfig configures the DNS server an agent runs for its tasks.
type taskDNSConfig struct {
	mode            string // --task-dns: on, off or auto
	forward         string // --dns-forward
	server, region  string
	keyID, secret   string
	node, stateFile string
}

// taskDNS is the DNS server an agent runs for its tasks at the task
// endpoint (169.254.170.2:53), fed by a DNS node streaming the server's
// configuration.
type taskDNS struct {
	addr    string // the tasks' nameserver; "" when tasks keep their resolvers
	srv     *dnsserver.Server
	cleanup func() error
	cancel  context.CancelFunc
	done    chan error
	// httpLn is the listener of the credentials and metadata endpoint
	// (taskendpoint.IP:80); nil when it could not be bound.
	httpLn  net.Listener
	httpSrv *http.Server
	log     *slog.Logger
}

// startTaskDNS makes the task endpoint an address of this host and serves
// DNS on it. In auto mode, where that is not possible (not Linux, not root,
// the port taken), it logs why and returns a taskDNS whose addr is "":
// tasks then keep the resolvers their runtime gives them.
func startTaskDNS(ctx context.Context, log *slog.Logger, c taskDNSConfig) (*taskDNS, error) {
	ctx, cancel := context.WithCancel(ctx)
	t := &taskDNS{done: make(chan error, 1), cancel: cancel}
	why := ""
	switch {
	case c.mode == "off":
		t.done <- nil
		return t, nil
	case c.mode != "on" && c.mode != "auto" && c.mode != "":
		return nil, fmt.Errorf("--task-dns %q: use on, off or auto", c.mode)
	case runtime.GOOS != "linux":
		why = "the task endpoint needs Linux"
	case os.Geteuid() != 0:
		why = "the task endpoint needs root (an address on lo, port 53)"
	}
	fail := func(err error) (*taskDNS, error) {
		if c.mode == "on" {
			return nil, fmt.Errorf("--task-dns on: %w", err)
		}
		log.Warn("tasks keep their runtime's resolvers: berth's DNS is not served at the task endpoint", "why", err.Error())
		t.done <- nil
		return t, nil
	}
	if why != "" {
		return fail(fmt.Errorf("%s", why))
	}
	listen := net.JoinHostPort(taskendpoint.IP, fmt.Sprint(taskendpoint.DNSPort))
	ups, err := dnsForwarders(c.forward, listen)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(c.stateFile), 0o700); err != nil {
		return nil, fmt.Errorf("task DNS: %w", err)
	}
	cleanup, err := hostaddr.EnsureTaskEndpoint(log)
	if err != nil {
		return fail(err)
	}
	srv := dnsserver.New(dnsserver.Options{Forward: ups, Log: log.With("component", "taskdns")})
	if err := srv.Start(listen); err != nil {
		cleanup()
		return fail(fmt.Errorf("serving DNS at %s: %w", listen, err))
	}
	t.addr, t.srv, t.cleanup, t.log = taskendpoint.IP, srv, cleanup, log
	// The credentials and metadata endpoint shares the address; without
	// its port tasks get no credentials or metadata URIs, DNS still works.
	httpAddr := net.JoinHostPort(taskendpoint.IP, fmt.Sprint(taskendpoint.HTTPPort))
	if ln, err := net.Listen("tcp", httpAddr); err != nil {
		log.Warn("tasks get no credentials or metadata endpoint", "address", httpAddr, "why", err.Error())
	} else {
		t.httpLn = ln
	}
	node := dnsnode.New(dnsnode.Config{Server: c.server, Region: c.region, AccessKeyID: c.keyID, SecretAccessKey: c.secret,
		Node: c.node, StateFile: c.stateFile, DNS: srv, Log: log})
	go func() { t.done <- node.Run(ctx) }()
	log.Info("serving DNS to tasks", "address", listen, "forward", strings.Join(ups, ","))
	return t, nil
}

// endpoint reports whether the credentials and metadata endpoint can be
// served (agent.Config.TaskEndpoint).
func (t *taskDNS) endpoint() bool { return t.httpLn != nil }

// serveEndpoint serves h (the agent's TaskEndpointHandler) at
// taskendpoint.IP:80 until Close.
func (t *taskDNS) serveEndpoint(h http.Handler) {
	if t.httpLn == nil {
		return
	}
	t.httpSrv = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	ln, srv, log := t.httpLn, t.httpSrv, t.log
	go func() {
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			log.Warn("the task credentials and metadata endpoint stopped", "err", err.Error())
		}
	}()
	log.Info("serving task credentials and metadata", "address", ln.Addr().String())
}

// Close stops serving and removes the task endpoint address if this agent
// added it; it returns the node's error.
func (t *taskDNS) Close() error {
	t.cancel()
	err := <-t.done
	if t.srv != nil {
		t.srv.Close()
	}
	if t.httpSrv != nil {
		t.httpSrv.Close()
	} else if t.httpLn != nil {
		t.httpLn.Close()
	}
	if t.cleanup != nil {
		if cerr := t.cleanup(); cerr != nil && err == nil {
			err = cerr
		}
	}
	t.done <- err
	return err
}

// dnsStateFile is where an agent's DNS node keeps its configuration.
func dnsStateFile(dataDir string) string { return filepath.Join(dataDir, "dns", "config.json") }

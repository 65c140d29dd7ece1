package harness

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Proc is a berth process the bench started (server or agent).
type Proc struct {
	Name    string
	Cmd     *exec.Cmd
	LogPath string
	exited  chan struct{}
	// Err is the process's exit error; read it only once Running is false.
	Err error
}

// StartProc runs bin args with env added to this process's environment,
// its output in logPath.
func StartProc(name, bin string, args, env []string, logPath string) (*Proc, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group: a Ctrl-C in the terminal reaches the bench
	// only, which then stops everything in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, LogPath: logPath, exited: make(chan struct{})}
	go func() {
		p.Err = cmd.Wait()
		logf.Close()
		close(p.exited)
	}()
	return p, nil
}

// Pid is the process's pid.
func (p *Proc) Pid() int { return p.Cmd.Process.Pid }

// Running reports whether the process has not exited yet.
func (p *Proc) Running() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Stop sends SIGTERM, and SIGKILL after grace. Only this process is
// signalled (by its pid), never its group: the process runtime's shims live
// in sessions of their own anyway.
func (p *Proc) Stop(grace time.Duration) error {
	if !p.Running() {
		return nil
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return nil
	case <-time.After(grace):
		_ = p.Cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("%s did not stop within %s of SIGTERM; killed", p.Name, grace)
	}
}

// LogTail returns the last n bytes of the process's output.
func (p *Proc) LogTail(n int64) string {
	return Tail(p.LogPath, n)
}

// Tail returns the last n bytes of the file at path ("" when unreadable).
func Tail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	off := max(fi.Size()-n, 0)
	b := make([]byte, fi.Size()-off)
	_, _ = f.ReadAt(b, off)
	return string(b)
}

// Server is a `berth server` process.
type Server struct {
	*Proc
	Endpoint string
	KeyID    string
	Secret   string
	Region   string
	DataDir  string
	// NS is the network namespace the server runs in (nil: the machine's).
	NS *NetNS
}

// StartServer runs `berth server` with a data dir under root, listening on
// an ephemeral loopback port, with freshly generated root credentials and
// the extra flags given, and waits until it answers.
func StartServer(ctx context.Context, bin, root, region string, extra ...string) (*Server, error) {
	return StartServerIn(ctx, nil, bin, root, region, extra...)
}

// StartServerIn is StartServer in network namespace ns (nil: the
// machine's), listening on an ephemeral port of ns.Addr.
func StartServerIn(ctx context.Context, ns *NetNS, bin, root, region string, extra ...string) (*Server, error) {
	dataDir := filepath.Join(root, "server")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	s := &Server{KeyID: "AKIABENCH" + strings.ToUpper(RandomHex(6))[:11], Secret: RandomHex(20), Region: region, DataDir: dataDir, NS: ns}
	listen := "127.0.0.1:0"
	if ns != nil {
		listen = ns.Addr + ":0"
	}
	args := append([]string{"server", "--data-dir", dataDir, "--listen", listen, "--region", region, "--log-level", "warn",
		"--dns-listen", "127.0.0.1:0", "--dns-forward", "none"}, extra...)
	cmd := bin
	if ns != nil {
		cmd, args = ns.Wrap(bin, args)
	}
	p, err := StartProc("berth server", cmd, args, s.Env(), filepath.Join(root, "server.log"))
	if err != nil {
		return nil, err
	}
	s.Proc = p
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if !p.Running() {
			return nil, fmt.Errorf("berth server exited during start (%v):\n%s", p.Err, p.LogTail(4096))
		}
		if ep := readyEndpoint(s.HTTPClient(), dataDir); ep != "" {
			s.Endpoint = ep
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = p.Stop(10 * time.Second)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("berth server did not become ready within 60s:\n%s", p.LogTail(4096))
}

// ReadyEndpoint is the endpoint that the `berth server` with data dir
// dataDir wrote there, once it answers /healthz with 200 OK; "" until then.
func ReadyEndpoint(dataDir string) string { return readyEndpoint(http.DefaultClient, dataDir) }

func readyEndpoint(hc *http.Client, dataDir string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "endpoint"))
	if err != nil {
		return ""
	}
	ep := strings.TrimSpace(string(b))
	resp, err := hc.Get(ep + "/healthz")
	if err != nil {
		return ""
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return ep
}

// HTTPClient is a plain HTTP client that reaches the server (from inside
// its namespace).
func (s *Server) HTTPClient() *http.Client {
	if s.NS == nil {
		return http.DefaultClient
	}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: s.NS.Dialer()}}
}

// Env is the environment that gives a berth process the root credentials.
func (s *Server) Env() []string {
	return []string{"BERTH_ROOT_ACCESS_KEY_ID=" + s.KeyID, "BERTH_ROOT_SECRET_ACCESS_KEY=" + s.Secret}
}

// Agent is a `berth agent` process.
type Agent struct {
	*Proc
	DataDir string
	Runtime string
}

// StartAgent runs `berth agent` for cluster with a data dir under root and
// no memory reserved. It returns once the process runs; WaitInstance tells
// when it registered.
func StartAgent(bin string, s *Server, root, cluster, runtime string, extra ...string) (*Agent, error) {
	return StartAgentIn(nil, bin, s, root, cluster, runtime, extra...)
}

// StartAgentIn is StartAgent in network namespace ns (nil: the machine's).
func StartAgentIn(ns *NetNS, bin string, s *Server, root, cluster, runtime string, extra ...string) (*Agent, error) {
	dataDir := filepath.Join(root, "agent-"+runtime)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	args := append([]string{"agent", "--server", s.Endpoint, "--cluster", cluster, "--runtime", runtime,
		"--data-dir", dataDir, "--region", s.Region, "--reserved-memory", "0", "--log-level", "warn", "--task-dns", "off"}, extra...)
	cmd := bin
	if ns != nil {
		cmd, args = ns.Wrap(bin, args)
	}
	p, err := StartProc("berth agent ("+runtime+")", cmd, args, s.Env(), filepath.Join(root, "agent-"+runtime+".log"))
	if err != nil {
		return nil, err
	}
	return &Agent{Proc: p, DataDir: dataDir, Runtime: runtime}, nil
}

// StopInto stops the server (SIGTERM, then SIGKILL after grace) and folds
// the outcome into *err, the result of the run that used it: a failed stop
// becomes the error when there was none, and a failed run (not one that was
// interrupted) gets the end of the server's log appended.
func (s *Server) StopInto(grace time.Duration, err *error) {
	if serr := s.Stop(grace); serr != nil && *err == nil {
		*err = serr
	}
	if *err == nil || errors.Is(*err, context.Canceled) {
		return
	}
	if t := s.LogTail(3000); strings.TrimSpace(t) != "" {
		*err = fmt.Errorf("%w\nserver log (end):\n%s", *err, t)
	}
}

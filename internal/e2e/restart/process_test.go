package restart

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The root credentials every server and agent of these tests use.
const (
	testRegion = "us-east-1"
	testKeyID  = "AKIATESTKEY000000001"
	testSecret = "testsecret/abcdefghijklmnopqrstuvwxyz0123"
)

// proc is one berth command (server, agent or dev) run as a process, any
// number of times in a row with the same arguments. Its output goes to a
// file (not a pipe: the process runtime's shims outlive the agent, and a
// pipe they inherited would keep Wait from returning), which the test log
// shows when the test fails. The process is killed when the test ends.
type proc struct {
	t    *testing.T
	name string
	args []string
	log  string // output file of every run
	runs int

	cmd    *exec.Cmd
	exited chan struct{} // closed when the current run has ended
}

// newProc prepares berth args; start runs it.
func newProc(t *testing.T, name string, args ...string) *proc {
	t.Helper()
	p := &proc{t: t, name: name, args: args, log: filepath.Join(t.TempDir(), name+".log")}
	t.Cleanup(func() {
		p.kill()
		if t.Failed() || os.Getenv("BERTH_TEST_LOG") != "" {
			t.Logf("output of %s (%s):\n%s", name, strings.Join(args, " "), p.output(64<<10))
		}
	})
	return p
}

// start runs the command once more; it fails the test if it is running.
func (p *proc) start() {
	p.t.Helper()
	if p.running() {
		p.t.Fatalf("%s is already running", p.name)
	}
	p.runs++
	out, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	defer out.Close()
	fmt.Fprintf(out, "==== %s run %d at %s\n", p.name, p.runs, time.Now().Format(time.RFC3339Nano))
	args := p.args
	if os.Getenv("BERTH_TEST_LOG") != "" {
		args = append(args[:len(args):len(args)], "--log-level", "debug")
	}
	cmd := exec.Command(berthBin, args...)
	cmd.Env = append(os.Environ(), "BERTH_ROOT_ACCESS_KEY_ID="+testKeyID, "BERTH_ROOT_SECRET_ACCESS_KEY="+testSecret)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		p.t.Fatalf("start %s: %v", p.name, err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	p.cmd, p.exited = cmd, exited
}

// running reports whether the current run goes on.
func (p *proc) running() bool {
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// signal sends sig and waits until the process has exited (30 s at most:
// a server's clean shutdown takes up to its 10 s shutdown timeout). It
// returns how the process ended.
func (p *proc) signal(sig syscall.Signal) *os.ProcessState {
	p.t.Helper()
	if !p.running() {
		p.t.Fatalf("%s is not running (%v)", p.name, p.cmd.ProcessState)
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Fatalf("signal %s: %v", p.name, err)
	}
	select {
	case <-p.exited:
		return p.cmd.ProcessState
	case <-time.After(30 * time.Second):
		p.kill()
		p.t.Fatalf("%s did not exit within 30s of %v", p.name, sig)
		return nil
	}
}

// pause stops (SIGSTOP) the current run and waits until the kernel shows
// it stopped; resume continues it. A paused process neither reads nor
// writes its connections.
func (p *proc) pause() {
	p.t.Helper()
	if !p.running() {
		p.t.Fatalf("%s is not running", p.name)
	}
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		p.t.Fatalf("stop %s: %v", p.name, err)
	}
	stat := fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid)
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The state follows the command name in parentheses: "PID (COMM) S ...".
		b, err := os.ReadFile(stat)
		if err == nil {
			if i := strings.LastIndexByte(string(b), ')'); i > 0 && strings.HasPrefix(string(b[i+1:]), " T") {
				return
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s did not stop within 10s of SIGSTOP: %s %v", p.name, b, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (p *proc) resume() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		p.t.Fatalf("continue %s: %v", p.name, err)
	}
}

// kill ends the current run, if any, with SIGKILL and waits for it.
func (p *proc) kill() {
	if !p.running() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// output returns the last max bytes of the output of every run.
func (p *proc) output(max int64) string {
	f, err := os.Open(p.log)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// exitedEarly fails the test when the current run has ended.
func (p *proc) exitedEarly(what string) {
	p.t.Helper()
	if !p.running() {
		p.t.Fatalf("%s exited (%v) before %s; output:\n%s", p.name, p.cmd.ProcessState, what, p.output(16<<10))
	}
}

// serverProc is `berth server` (or `berth dev`) on one data dir and one
// listen address, kept across restarts, so agents reconnect to the same
// endpoint.
type serverProc struct {
	*proc
	dir      string
	endpoint string    // http://127.0.0.1:PORT
	ready    time.Time // when the current run first answered /healthz
}

// startServerProc runs berth mode (server or dev) on data dir dir and a
// port of its own, with extra flags, and waits until it answers.
func startServerProc(t *testing.T, mode, dir, account string, extra ...string) *serverProc {
	t.Helper()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(listenPort(t)))
	args := append([]string{mode, "--data-dir", dir, "--listen", addr, "--region", testRegion, "--account-id", account,
		"--dns-listen", "127.0.0.1:0", "--dns-forward", "none"}, extra...)
	if mode == "dev" {
		args = append(args, "--task-dns", "off")
	}
	s := &serverProc{proc: newProc(t, mode, args...), dir: dir, endpoint: "http://" + addr}
	s.start()
	return s
}

// start runs the server and waits until it answers /healthz (it serves
// once its state is rebuilt and it leads), at most a minute.
func (s *serverProc) start() {
	s.t.Helper()
	os.Remove(filepath.Join(s.dir, "endpoint"))
	s.proc.start()
	deadline := time.Now().Add(time.Minute)
	for {
		s.exitedEarly("answering")
		// The file is written in place: only a whole line counts.
		if b, err := os.ReadFile(filepath.Join(s.dir, "endpoint")); err == nil && strings.HasSuffix(string(b), "\n") {
			if ep := strings.TrimSpace(string(b)); ep != s.endpoint {
				s.t.Fatalf("the server serves on %s, want %s", ep, s.endpoint)
			}
			if resp, err := http.Get(s.endpoint + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					s.ready = time.Now()
					return
				}
			}
		}
		if time.Now().After(deadline) {
			s.kill()
			s.t.Fatalf("%s did not answer within a minute; output:\n%s", s.name, s.output(16<<10))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// listenPort returns a free loopback port below the kernel's ephemeral
// range: a server restarted on it does not find it taken by an outgoing
// connection of another test made while it was down.
func listenPort(t *testing.T) int {
	t.Helper()
	low := 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				low = n
			}
		}
	}
	const first = 10000
	if low <= first+1000 {
		low = 65536 // no room below the range: take any port
	}
	for range 100 {
		port := first + int(randomUint64()%uint64(low-first))
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ln.Close()
		return port
	}
	t.Fatal("found no free port")
	return 0
}

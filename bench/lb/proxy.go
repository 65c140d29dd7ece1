package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"berth.dev/berth/bench/internal/harness"
)

// backendBody is what every backend answers: about 100 bytes.
var backendBody = []byte(strings.Repeat("berth bench/lb backend, a static body of about one hundred bytes. ", 2)[:100])

// startBackends starts n HTTP servers on ephemeral loopback ports (keep-alive,
// every path answers 200 with backendBody) and returns their host:ports.
func startBackends(n int, cl *harness.Cleanups) ([]string, error) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd["Content-Type"] = []string{"text/plain"}
		hd["Content-Length"] = []string{strconv.Itoa(len(backendBody))}
		_, _ = w.Write(backendBody)
	})
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		srv := &http.Server{Handler: h, IdleTimeout: 2 * time.Minute}
		go func() { _ = srv.Serve(ln) }()
		cl.Add(func() { srv.Close() })
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// freePort is a TCP port free on ip now.
func freePort(ip string) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// berthLB is berth's side: a `berth server` with its own load balancer
// address pool and a `berth lb` node, as separate processes, and the ALB
// made through the ELBv2 API.
type berthLB struct {
	srv  *harness.Server
	node *harness.Proc
	url  string
}

// startBerth starts the server and the node, creates the ALB, its HTTP
// listener and an ip target group with the backends, and waits until every
// target is in service.
func startBerth(ctx context.Context, bin, root string, o *options, backends []string) (*berthLB, error) {
	dir := filepath.Join(root, "berth-proxy")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	srv, err := harness.StartServer(ctx, bin, dir, o.Region, "--lb-addresses", o.lbPool)
	if err != nil {
		return nil, err
	}
	b := &berthLB{srv: srv}
	env := append(srv.Env(), "GOMAXPROCS="+strconv.Itoa(o.proxyProcs))
	if o.lbGOGC != "" {
		env = append(env, "GOGC="+o.lbGOGC)
	}
	node, err := harness.StartProc("berth lb", bin, []string{"lb", "--endpoint", srv.Endpoint, "--region", o.Region,
		"--data-dir", filepath.Join(dir, "lb"), "--node", "bench", "--log-level", "warn"}, env, filepath.Join(dir, "lb.log"))
	if err != nil {
		b.stop()
		return nil, err
	}
	b.node = node
	c, err := harness.NewELBClient(ctx, srv)
	if err != nil {
		b.stop()
		return nil, err
	}
	addr, err := createALB(ctx, c, "bench", backends, 0)
	if err != nil {
		b.stop()
		if !node.Running() {
			err = fmt.Errorf("%w\nberth lb log (end):\n%s", err, node.LogTail(3000))
		}
		return nil, err
	}
	b.url = "http://" + addr + "/"
	return b, nil
}

func (b *berthLB) stop() {
	if b.node != nil {
		if err := b.node.Stop(10 * time.Second); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if err := b.srv.Stop(10 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// createALB creates an application load balancer, an ip target group with
// the targets (host:port) registered — or an instance target group with
// none when targets is nil and instancePort is set, for ECS to fill — and an
// HTTP listener on a free port of the load balancer's address that forwards
// to it; it waits until the load balancer is active and, when targets were
// given, until they are all in service. It returns the listener's
// host:port.
func createALB(ctx context.Context, c *elb.Client, name string, targets []string, instancePort int) (string, error) {
	return createALBWith(ctx, c, name, targets, instancePort, 5*time.Second, 0, nil)
}

// createALBWith is createALB with health checks every interval; tgARN,
// when not nil, receives the target group's ARN, and delay is its
// deregistration delay (0: the default).
func createALBWith(ctx context.Context, c *elb.Client, name string, targets []string, instancePort int, interval, delay time.Duration, tgARN *string) (string, error) {
	lbo, err := c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String(name), Subnets: []string{"subnet-a", "subnet-b"}})
	if err != nil {
		return "", fmt.Errorf("CreateLoadBalancer: %w", err)
	}
	lbARN := lbo.LoadBalancers[0].LoadBalancerArn
	in := &elb.CreateTargetGroupInput{Name: aws.String(name), Protocol: elbtypes.ProtocolEnumHttp, VpcId: aws.String("vpc-bench"),
		HealthCheckPath: aws.String("/health"), HealthCheckIntervalSeconds: aws.Int32(int32(interval / time.Second)), HealthCheckTimeoutSeconds: aws.Int32(2),
		HealthyThresholdCount: aws.Int32(2), UnhealthyThresholdCount: aws.Int32(2)}
	if targets != nil {
		in.TargetType, in.Port = elbtypes.TargetTypeEnumIp, aws.Int32(80)
	} else {
		in.TargetType, in.Port = elbtypes.TargetTypeEnumInstance, aws.Int32(int32(instancePort))
	}
	tg, err := c.CreateTargetGroup(ctx, in)
	if err != nil {
		return "", fmt.Errorf("CreateTargetGroup: %w", err)
	}
	arn := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if tgARN != nil {
		*tgARN = arn
	}
	if delay > 0 || targets == nil {
		if _, err := c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(arn),
			Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String(strconv.Itoa(int(delay.Seconds())))}}}); err != nil {
			return "", fmt.Errorf("ModifyTargetGroupAttributes: %w", err)
		}
	}
	var descs []elbtypes.TargetDescription
	for _, t := range targets {
		host, port, err := net.SplitHostPort(t)
		if err != nil {
			return "", err
		}
		p, _ := strconv.Atoi(port)
		descs = append(descs, elbtypes.TargetDescription{Id: aws.String(host), Port: aws.Int32(int32(p))})
	}
	if len(descs) > 0 {
		if _, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(arn), Targets: descs}); err != nil {
			return "", fmt.Errorf("RegisterTargets: %w", err)
		}
	}
	d, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lbARN)}})
	if err != nil {
		return "", fmt.Errorf("DescribeLoadBalancers: %w", err)
	}
	var ip string
	for _, az := range d.LoadBalancers[0].AvailabilityZones {
		for _, a := range az.LoadBalancerAddresses {
			if a.IpAddress != nil {
				ip = *a.IpAddress
			}
		}
	}
	if ip == "" {
		return "", errors.New("the load balancer lists no address")
	}
	port, err := freePort(ip)
	if err != nil {
		return "", err
	}
	if _, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: lbARN, Port: aws.Int32(int32(port)), Protocol: elbtypes.ProtocolEnumHttp,
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(arn)}}}); err != nil {
		return "", fmt.Errorf("CreateListener: %w", err)
	}
	w := elb.NewLoadBalancerAvailableWaiter(c, func(o *elb.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := w.Wait(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{aws.ToString(lbARN)}}, time.Minute); err != nil {
		return "", fmt.Errorf("load balancer not active: %w", err)
	}
	if len(descs) > 0 {
		tw := elb.NewTargetInServiceWaiter(c, func(o *elb.TargetInServiceWaiterOptions) { o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second })
		if err := tw.Wait(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(arn)}, time.Minute); err != nil {
			return "", fmt.Errorf("targets not in service: %w", err)
		}
	}
	addr := net.JoinHostPort(ip, strconv.Itoa(port))
	// The listener binds when the node applies the configuration.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || targets == nil {
				return addr, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("the listener %s does not answer 200 (%v)", addr, err)
		}
		harness.Sleep(ctx, 50*time.Millisecond)
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
}

// nginx is the reference proxy: the Debian package, run with a generated
// configuration.
type nginx struct {
	proc *harness.Proc
	url  string
	ver  string
}

// ensureNginx finds nginx, installing the Debian package when it is
// missing.
func ensureNginx(ctx context.Context) (string, error) {
	for _, p := range []string{"nginx", "/usr/sbin/nginx"} {
		if path, err := exec.LookPath(p); err == nil {
			return path, nil
		}
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", errors.New("nginx is not installed and there is no apt-get to install it: install nginx, or leave it out with --systems direct,berth")
	}
	fmt.Fprintln(os.Stderr, "nginx is missing: apt-get install -y nginx-light (or nginx) ...")
	apt := func(args ...string) error {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	var lastErr error
	for _, pkg := range []string{"nginx-light", "nginx"} {
		if lastErr = apt("install", "-y", pkg); lastErr != nil {
			if lastErr = apt("update"); lastErr == nil {
				lastErr = apt("install", "-y", pkg)
			}
		}
		if path, err := exec.LookPath("/usr/sbin/nginx"); err == nil {
			return path, nil
		}
	}
	return "", fmt.Errorf("could not install nginx with apt-get (%v): install it by hand (needs root), or leave it out with --systems direct,berth", lastErr)
}

// startNginx runs nginx in front of the backends on addr ip:port, with
// workers workers.
func startNginx(ctx context.Context, root, ip string, workers, keepalive int, backends []string) (*nginx, error) {
	bin, err := ensureNginx(ctx)
	if err != nil {
		return nil, err
	}
	n := &nginx{}
	if out, err := exec.CommandContext(ctx, bin, "-v").CombinedOutput(); err == nil {
		n.ver = strings.TrimPrefix(strings.TrimSpace(string(out)), "nginx version: ")
	}
	dir := filepath.Join(root, "nginx")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort(ip)
	if err != nil {
		return nil, err
	}
	var ups strings.Builder
	for _, b := range backends {
		fmt.Fprintf(&ups, "    server %s;\n", b)
	}
	conf := fmt.Sprintf(`# bench/lb: nginx as a keep-alive reverse proxy to the same backends.
worker_processes %[5]d;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
daemon off;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body; proxy_temp_path %[1]s/proxy; fastcgi_temp_path %[1]s/fastcgi; uwsgi_temp_path %[1]s/uwsgi; scgi_temp_path %[1]s/scgi;
  upstream backends {
%[2]s    keepalive %[6]d;
  }
  server {
    listen %[3]s:%[4]d;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`, dir, ups.String(), ip, port, workers, keepalive)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(conf), 0o644); err != nil {
		return nil, err
	}
	p, err := harness.StartProc("nginx", bin, []string{"-c", filepath.Join(dir, "nginx.conf"), "-p", dir}, nil, filepath.Join(dir, "nginx.log"))
	if err != nil {
		return nil, err
	}
	n.proc = p
	n.url = "http://" + net.JoinHostPort(ip, strconv.Itoa(port)) + "/"
	for range 250 {
		if !p.Running() {
			return nil, fmt.Errorf("nginx exited (%v): %s %s", p.Err, p.LogTail(2000), harness.Tail(filepath.Join(dir, "error.log"), 2000))
		}
		if resp, err := http.Get(n.url); err == nil {
			resp.Body.Close()
			return n, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	n.stop()
	return nil, errors.New("nginx did not answer within 5s")
}

// stop ends nginx: SIGTERM to the master (its fast shutdown), SIGKILL
// after the grace.
func (n *nginx) stop() {
	if err := n.proc.Stop(5 * time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}

// proxyCPU is the CPU seconds pid and its descendants used.
func proxyCPU(pid int) float64 {
	return harness.ProcCPU(pid) + harness.DescendantsCPU(harness.ScanProcs(), pid)
}

// defaultProcs is the cores the proxies get: all of them.
func defaultProcs() int { return runtime.NumCPU() }

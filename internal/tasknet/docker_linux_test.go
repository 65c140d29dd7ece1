package tasknet

import (
	"context"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// dockerRules are the filter and nat rules Docker 20.10 installs with its
// default bridge (as iptables-save writes them), for a namespace that
// should look like a Docker host.
const dockerRules = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-ISOLATION-STAGE-1 - [0:0]
:DOCKER-ISOLATION-STAGE-2 - [0:0]
:DOCKER-USER - [0:0]
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
`

// TestAlongsideDocker: on a host with Docker's rules, berth's jumps go on
// top; after Docker puts its own jumps back above them (as it does when
// it restarts), Ensure neither duplicates nor moves berth's, tasks are
// reachable and reach out, Docker's rules are untouched, and Teardown
// leaves exactly Docker's rules.
func TestAlongsideDocker(t *testing.T) {
	requireNetAdmin(t)
	ctx := context.Background()
	host, world := newNS(t, "host"), newNS(t, "world")
	restore := exec.Command("ip", "netns", "exec", host.name, "iptables-restore")
	restore.Stdin = strings.NewReader(dockerRules)
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("iptables-restore: %v\n%s", err, out)
	}
	docker := rulesOf(t, host)
	link(t, host, "wan0", world, "eth0")
	host.addr(t, "wan0", "198.51.100.2/24")
	world.addr(t, "eth0", "198.51.100.1/24")
	serve(t, world, "0.0.0.0:8080", "world")

	h := newHost(t, host, "10.200.1.0/24", "10.200.0.0/16")
	checkRules(t, host, "berth0", "10.200.1.0/24", "10.200.0.0/16")
	// Docker restarts and puts its jumps first again.
	for _, c := range []string{"DOCKER-ISOLATION-STAGE-1", "DOCKER-USER"} {
		host.sh(t, "iptables", "-D", "FORWARD", "-j", c)
		host.sh(t, "iptables", "-I", "FORWARD", "1", "-j", c)
	}
	if err := h.Ensure(ctx); err != nil {
		t.Fatal(err)
	}
	checkBerthRules(t, host, "berth0", "10.200.1.0/24", "10.200.0.0/16", false)
	filter := lines(host.sh(t, "iptables", "-S", "FORWARD"))
	if len(filter) < 4 || filter[1] != "-A FORWARD -j DOCKER-USER" || filter[2] != "-A FORWARD -j DOCKER-ISOLATION-STAGE-1" || filter[3] != "-A FORWARD -j BERTH-FORWARD" {
		t.Errorf("FORWARD after Docker's restart and Ensure:\n%s", strings.Join(filter, "\n"))
	}

	t1, t2 := newNS(t, "t1"), newNS(t, "t2")
	serve(t, t1, "0.0.0.0:8080", "task-1")
	serve(t, t2, "0.0.0.0:8080", "task-2")
	if _, err := h.Attach(ctx, "task-1", t1.path, netip.MustParseAddr("10.200.1.2")); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Attach(ctx, "task-2", t2.path, netip.MustParseAddr("10.200.1.3")); err != nil {
		t.Fatal(err)
	}
	mustCall(t, t1, "10.200.1.3:8080", "task-2")
	mustCall(t, host, "10.200.1.2:8080", "task-1")
	if a := mustCall(t, t2, "198.51.100.1:8080", "world"); a.from != netip.MustParseAddr("198.51.100.2") {
		t.Errorf("the world saw task-2 as %s, want the host's address", a.from)
	}

	if err := h.Teardown(ctx); err != nil {
		t.Fatal(err)
	}
	if after := rulesOf(t, host); after != docker {
		t.Errorf("after Teardown:\n%s\nDocker's were:\n%s", after, docker)
	}
}
